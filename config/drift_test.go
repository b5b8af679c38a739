package config

import (
	"strings"
	"testing"
	"time"
)

// An environment's drift: is a duration or off; without it the server's
// interval applies (zero here).
func TestParseRepoDrift(t *testing.T) {
	cfg, err := ParseRepo([]byte(`version: 1
environments:
  a: {cluster: c, path: a, drift: 30m}
  b: {cluster: c, path: b, drift: off}
  c: {cluster: c, path: c}
`), "f")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Env("a")
	b, _ := cfg.Env("b")
	c, _ := cfg.Env("c")
	if a.Drift != 30*time.Minute || a.DriftOff || !b.DriftOff || c.Drift != 0 || c.DriftOff {
		t.Errorf("drift: a=%v/%v b=%v/%v c=%v/%v", a.Drift, a.DriftOff, b.Drift, b.DriftOff, c.Drift, c.DriftOff)
	}
	for value, want := range map[string]string{
		"sometimes": `f:3: environments.a.drift: "sometimes" is neither a duration (like 10m or 1h) nor off`,
		"-5m":       `f:3: environments.a.drift: must be positive (or off)`,
		"[10m]":     `f:3: environments.a.drift: want a string`,
	} {
		_, err := ParseRepo([]byte("version: 1\nenvironments:\n  a: {cluster: c, path: a, drift: "+value+"}\n"), "f")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("drift: %s: error %v, want %q", value, err, want)
		}
	}
}

// The server's drift: section has defaults and refuses nonsense.
func TestLoadServerAppDrift(t *testing.T) {
	s, err := LoadServerApp(writeAppConfig(t, appConfig))
	if err != nil {
		t.Fatal(err)
	}
	if s.Drift.Interval != DefaultDriftInterval || s.Drift.Concurrency != DefaultDriftConcurrency {
		t.Errorf("defaults: %+v", s.Drift)
	}
	s, err = LoadServerApp(writeAppConfig(t, appConfig+"drift: {interval: 15s, concurrency: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Drift.Interval != 15*time.Second || s.Drift.Concurrency != 2 {
		t.Errorf("drift = %+v", s.Drift)
	}
	for body, want := range map[string]string{
		"drift: {interval: -1m}\n":   "drift: interval and concurrency must be positive",
		"drift: {interval: often}\n": "often",
		"drift: {intervall: 10m}\n":  "intervall",
	} {
		if _, err := LoadServerApp(writeAppConfig(t, appConfig+body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}
