package githubtest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

// tokenTTL is how long installation tokens live on GitHub.
const tokenTTL = time.Hour

// token is an access token: an installation's, or a user's (for tests that
// act as a person through the API).
type token struct {
	value        string
	installation *Installation
	user         *User
	expires      time.Time
}

// principal is who a request acts as.
type principal struct {
	app          bool          // authenticated with the app's JWT
	installation *Installation // installation token
	user         *User         // the acting account (the bot for installation tokens)
}

type principalKey struct{}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey{}).(*principal)
	return p
}

func (s *Server) initApp() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("githubtest: app key: %w", err)
	}
	s.app = &App{
		ID:            s.id(),
		Slug:          "tugboat",
		Name:          "tugboat",
		PrivateKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		WebhookSecret: randomHex(20),
	}
	s.bot = &User{ID: s.id(), Login: s.app.Slug + "[bot]", Type: "Bot"}
	s.users[s.bot.Login] = s.bot
	return nil
}

// App returns the GitHub App (id, private key, webhook secret).
func (s *Server) App() App {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.app
}

// Bot is the account the app's installation tokens act as ("tugboat[bot]").
func (s *Server) Bot() User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.bot
}

// UserToken returns an access token acting as login, for tests that call
// the API as a person rather than as the app.
func (s *Server) UserToken(login string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(login, "User")
	t := &token{value: "ghp_" + randomHex(18), user: u, expires: time.Now().Add(24 * time.Hour)}
	s.tokens[t.value] = t
	return t.value
}

// authenticate checks credentials: the app's JWT for /app/* and the
// installation lookups, an access token for everything else.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if anonymous(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		kind, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		kind = strings.ToLower(kind)
		var p *principal
		var err error
		if needsJWT(r.URL.Path) {
			if kind != "bearer" {
				err = errors.New("A JSON web token could not be decoded")
			} else {
				err = s.verifyJWT(cred)
				p = &principal{app: true}
			}
		} else {
			if cred == "" || (kind != "token" && kind != "bearer") {
				writeError(w, http.StatusUnauthorized, "Requires authentication")
				return
			}
			p, err = s.lookupToken(cred)
		}
		if err != nil {
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// anonymous reports whether path is an operation GitHub serves without
// credentials: the manifest code exchange, whose code is the credential.
func anonymous(path string) bool {
	return strings.HasPrefix(path, "/app-manifests/")
}

func needsJWT(path string) bool {
	return path == "/app" || strings.HasPrefix(path, "/app/") ||
		strings.HasSuffix(path, "/installation") && (strings.HasPrefix(path, "/repos/") || strings.HasPrefix(path, "/orgs/") || strings.HasPrefix(path, "/users/"))
}

// verifyJWT checks what GitHub checks: RS256 signed by the app's key, iss =
// app id (a number or its string), issued in the past (iat), not expired
// (exp), and valid for no more than ten minutes. The messages are GitHub's.
// The claims are checked here rather than by the JWT library, whose own
// messages ("token is expired by 5m0s") are not what GitHub answers.
func (s *Server) verifyJWT(raw string) error {
	app := s.App()
	key, err := jwt.ParseRSAPrivateKeyFromPEM(app.PrivateKeyPEM)
	if err != nil {
		return fmt.Errorf("app key: %w", err)
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithoutClaimsValidation())
	_, err = parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if t.Method.Alg() != jwt.SigningMethodRS256.Alg() {
			return nil, fmt.Errorf("unexpected signing method %s", t.Method.Alg())
		}
		return &key.PublicKey, nil
	})
	if err != nil {
		return fmt.Errorf("A JSON web token could not be decoded: %v", err)
	}
	now := time.Now()
	exp, expOK := claims["exp"].(float64)
	if !expOK || now.After(time.Unix(int64(exp), 0)) {
		return errors.New("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires")
	}
	iat, iatOK := claims["iat"].(float64)
	if !iatOK || time.Unix(int64(iat), 0).After(now) {
		return errors.New("'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued")
	}
	if time.Unix(int64(exp), 0).Sub(time.Unix(int64(iat), 0)) > 10*time.Minute+time.Minute {
		return errors.New("'Expiration time' claim ('exp') is too far in the future")
	}
	var iss string
	switch v := claims["iss"].(type) {
	case string:
		iss = v
	case float64:
		iss = strconv.FormatInt(int64(v), 10)
	}
	if iss != strconv.FormatInt(app.ID, 10) {
		return fmt.Errorf("'Issuer' claim ('iss') must be the app id %d, got %q", app.ID, iss)
	}
	return nil
}

func (s *Server) lookupToken(value string) (*principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[value]
	if !ok {
		return nil, errors.New("Bad credentials")
	}
	if time.Now().After(t.expires) {
		return nil, errors.New("Bad credentials")
	}
	if t.installation != nil {
		return &principal{installation: t.installation, user: s.bot}, nil
	}
	return &principal{user: t.user}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}
