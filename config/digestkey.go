package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DigestKeySize is the size of a generated digest key.
const DigestKeySize = 32

// DigestKeyFileEnv names the environment variable that overrides the server
// config's digest_key_file.
const DigestKeyFileEnv = "TUGBOAT_DIGEST_KEY_FILE"

// minDigestKeySize refuses keys short enough to brute-force a Secret value
// from its HMAC.
const minDigestKeySize = 16

// DefaultDigestKeyFile is where a local user's digest key lives:
// os.UserConfigDir()/tugboat/digest.key.
func DefaultDigestKeyFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("digest key: no user config directory: %w", err)
	}
	return filepath.Join(dir, "tugboat", "digest.key"), nil
}

// LoadDigestKey reads the digest key at path. An empty path means
// DefaultDigestKeyFile, which is created (DigestKeySize random bytes, mode
// 0600) when it does not exist yet. A configured path is never created: a
// missing server key is a deployment mistake, and a fresh random key would
// silently invalidate every plan shown so far.
func LoadDigestKey(path string) ([]byte, error) {
	if path != "" {
		return readDigestKey(path)
	}
	def, err := DefaultDigestKeyFile()
	if err != nil {
		return nil, err
	}
	key, err := readDigestKey(def)
	if errors.Is(err, fs.ErrNotExist) {
		return createDigestKey(def)
	}
	return key, err
}

// ReadDigestKey reads the digest key at path, which must be given: the
// server's key is shared by every replica, so it is never invented.
func ReadDigestKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("digest key: no file given (digest_key_file or " + DigestKeyFileEnv + ")")
	}
	return readDigestKey(path)
}

func readDigestKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	if len(key) < minDigestKeySize {
		return nil, fmt.Errorf("digest key %s: %d bytes is too short (want at least %d)", path, len(key), minDigestKeySize)
	}
	return key, nil
}

// createDigestKey writes a new key to a temporary file and links it into
// place, so two processes starting at once agree on one key and neither
// ever reads a half-written file.
func createDigestKey(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	key := make([]byte, DigestKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".digest.key-*")
	if err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("digest key: %w", err)
	}
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("digest key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readDigestKey(path) // another process won the race
		}
		return nil, fmt.Errorf("digest key: %w", err)
	}
	return key, nil
}
