package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// appRequest calls GET /app with the given Authorization and returns the
// status and GitHub's error message.
func appRequest(t *testing.T, s *Server, auth string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+"/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Message string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Message
}

// TestAppJWTChecked: GitHub accepts an app's JWT only if it is RS256,
// signed with the app's key, issued by the app (iss), not expired (exp),
// and valid for at most ten minutes; anything else is a 401 whose message
// names the claim, as GitHub's does.
func TestAppJWTChecked(t *testing.T) {
	s := New(t)
	app := s.App()
	key, err := jwt.ParseRSAPrivateKeyFromPEM(app.PrivateKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	iss := strconv.FormatInt(app.ID, 10)
	sign := func(k *rsa.PrivateKey, claims jwt.MapClaims) string {
		t.Helper()
		raw, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + raw
	}
	hs256, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "iss": iss}).SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		auth string
		want int
		msg  string
	}{
		"valid":                {sign(key, jwt.MapClaims{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": iss}), 200, ""},
		"valid, numeric iss":   {sign(key, jwt.MapClaims{"iat": now.Add(-time.Minute).Unix(), "exp": now.Add(9 * time.Minute).Unix(), "iss": app.ID}), 200, ""},
		"expired":              {sign(key, jwt.MapClaims{"iat": now.Add(-15 * time.Minute).Unix(), "exp": now.Add(-5 * time.Minute).Unix(), "iss": iss}), 401, "'Expiration time' claim ('exp')"},
		"wrong issuer":         {sign(key, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "iss": strconv.FormatInt(app.ID+1, 10)}), 401, "'Issuer' claim ('iss')"},
		"no issuer":            {sign(key, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}), 401, "'Issuer' claim ('iss')"},
		"too long":             {sign(key, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(30 * time.Minute).Unix(), "iss": iss}), 401, "too far in the future"},
		"no exp":               {sign(key, jwt.MapClaims{"iat": now.Unix(), "iss": iss}), 401, "'Expiration time' claim ('exp')"},
		"issued in the future": {sign(key, jwt.MapClaims{"iat": now.Add(5 * time.Minute).Unix(), "exp": now.Add(10 * time.Minute).Unix(), "iss": iss}), 401, "'Issued at' claim ('iat')"},
		"another key":          {sign(other, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "iss": iss}), 401, "could not be decoded"},
		"HS256":                {"Bearer " + hs256, 401, "could not be decoded"},
		"not a JWT":            {"Bearer ghs_notajwt", 401, "could not be decoded"},
		"installation token":   {"token " + s.UserToken("alice"), 401, "could not be decoded"},
	} {
		t.Run(name, func(t *testing.T) {
			code, msg := appRequest(t, s, tc.auth)
			if code != tc.want || !strings.Contains(msg, tc.msg) {
				t.Fatalf("GET /app: %d %q, want %d with %q", code, msg, tc.want, tc.msg)
			}
		})
	}
}
