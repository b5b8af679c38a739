package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadDigestKeyCreatesDefaultOnce(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home) // os.UserConfigDir on Linux
	t.Setenv("HOME", home)
	k1, err := LoadDigestKey("")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, "tugboat", "digest.key")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || len(k1) != DigestKeySize {
		t.Errorf("mode %v, %d bytes", fi.Mode().Perm(), len(k1))
	}
	k2, err := LoadDigestKey("")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second load gave a different key (err %v)", err)
	}
	k3, err := LoadDigestKey(path)
	if err != nil || !bytes.Equal(k1, k3) {
		t.Errorf("explicit path gave a different key (err %v)", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestLoadDigestKeyConfiguredPathNeverCreated(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.key")
	if _, err := LoadDigestKey(missing); err == nil {
		t.Fatal("a missing configured key was accepted")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("a configured key file was created")
	}
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("abc"), 0o600)
	if _, err := LoadDigestKey(short); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("short key: %v", err)
	}
}

func TestReadDigestKeyNeverInvents(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("HOME", home)
	if _, err := ReadDigestKey(""); err == nil || !strings.Contains(err.Error(), "no file given") {
		t.Errorf("empty path: %v", err)
	}
	if entries, _ := os.ReadDir(home); len(entries) != 0 {
		t.Errorf("ReadDigestKey created %v", entries)
	}
	p := filepath.Join(home, "k")
	want := []byte("0123456789abcdef0123456789abcdef")
	os.WriteFile(p, want, 0o600)
	if got, err := ReadDigestKey(p); err != nil || !bytes.Equal(got, want) {
		t.Errorf("got %q, %v", got, err)
	}
}
