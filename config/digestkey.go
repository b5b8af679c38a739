package config

import "errors"

// LoadDigestKey reads the digest key at path. An empty path means
// DefaultDigestKeyFile, which is created (32 random bytes, mode 0600) when
// it does not exist yet.
func LoadDigestKey(path string) ([]byte, error) {
	return nil, errors.New("not implemented yet")
}

// DefaultDigestKeyFile is where a local user's digest key lives:
// os.UserConfigDir()/tugboat/digest.key.
func DefaultDigestKeyFile() (string, error) {
	return "", errors.New("not implemented yet")
}
