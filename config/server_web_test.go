package config

import (
	"strings"
	"testing"
	"time"
)

func TestServerWeb(t *testing.T) {
	s, err := ParseServer([]byte("web:\n  refresh: 30s\n  status_token: 0123456789abcdef01\n"), "bot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Web.RefreshInterval() != 30*time.Second || s.Web.StatusToken != "0123456789abcdef01" {
		t.Errorf("web = %+v", s.Web)
	}
	s, err = ParseServer([]byte("clusters: {}\n"), "bot.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Web.RefreshInterval() != DefaultWebRefresh || s.Web.StatusToken != "" {
		t.Errorf("default web = %+v", s.Web)
	}
	t.Setenv(StatusTokenEnv, "from-the-environment-0123")
	s.Web.statusTokenFromEnv()
	if s.Web.StatusToken != "from-the-environment-0123" {
		t.Errorf("%s not applied: %q", StatusTokenEnv, s.Web.StatusToken)
	}
}

func TestServerWebErrors(t *testing.T) {
	for src, want := range map[string]string{
		"web:\n  refresh: -5s\n":          "bot.yaml:2: web.refresh: -5s is negative",
		"web:\n  refresh: 10ms\n":         "bot.yaml:2: web.refresh: 10ms is too often",
		"web:\n\n  status_token: short\n": "bot.yaml:3: web.status_token: too short to be secret",
		"web:\n  refresh: soon\n":         "bot.yaml:2:",
		"web:\n  status_page: true\n":     "bot.yaml:2:",
	} {
		_, err := ParseServer([]byte(src), "bot.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "short\n") {
			t.Errorf("the error shows the token")
		}
	}
}
