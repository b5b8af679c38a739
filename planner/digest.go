package planner

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sort"
)

// digestVersion changes whenever the digest's input changes shape, so a
// plan shown by an older bot never matches by accident.
const digestVersion = "tugboat-plan-digest-v1"

// secretValues is the desired data of one planned Secret, by key, as the
// base64 the API server receives. It is only ever fed to the keyed HMAC.
type secretValues struct {
	ref  ObjectRef
	data map[string]string
}

// computeDigest returns "sha256:<hex>" over every change's ref, action and
// masked diff, every problem, and a keyed HMAC-SHA256 of every planned
// Secret's values. The masked diff alone cannot see a value replaced by
// another (both show "changed"); the HMAC can, and without a key it reveals
// nothing, not even whether two plans hold the same value.
func computeDigest(key []byte, changes []Change, problems []Problem, secrets []secretValues) string {
	h := sha256.New()
	field(h, digestVersion)
	for _, c := range changes {
		field(h, "change")
		writeRef(h, c.Ref)
		field(h, string(c.Action))
		field(h, c.Diff)
	}
	for _, p := range problems {
		field(h, "problem")
		field(h, p.Object)
		field(h, p.Message)
	}
	sort.Slice(secrets, func(i, j int) bool { return refLess(secrets[i].ref, secrets[j].ref) })
	mac := hmac.New(sha256.New, key)
	for _, s := range secrets {
		field(mac, "secret")
		writeRef(mac, s.ref)
		keys := make([]string, 0, len(s.data))
		for k := range s.data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			field(mac, k)
			field(mac, s.data[k])
		}
	}
	field(h, "secrets")
	h.Write(mac.Sum(nil))
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func writeRef(h hash.Hash, r ObjectRef) {
	field(h, r.Group)
	field(h, r.Version)
	field(h, r.Kind)
	field(h, r.Namespace)
	field(h, r.Name)
}

// field writes s length-prefixed, so no two different sequences of fields
// hash the same.
func field(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}
