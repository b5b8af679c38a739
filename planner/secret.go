package planner

import (
	"encoding/base64"
)

// The values a masked Secret shows instead of its data. Live and planned
// side agree on "<secret>" for an unchanged key, so a unified diff shows
// exactly the keys that are added, removed or changed, and nothing else.
const (
	maskUnchanged = "<secret>"
	maskChanged   = "<secret, changed>"
	maskAdded     = "<secret, added>"
	maskRemoved   = "<secret, removed>"
)

// maskSecretPair replaces, in place, every data/stringData value of a live
// and a planned Secret (either may be nil) with a marker saying how the key
// changes. This is the only form in which Secret data leaves the planner:
// no value, no base64 of one, no hash.
func maskSecretPair(live, planned map[string]any) {
	liveData := secretData(live)
	plannedData := secretData(planned)
	if live != nil {
		masked := make(map[string]any, len(liveData))
		for k := range liveData {
			if _, kept := plannedData[k]; kept || planned == nil {
				masked[k] = maskUnchanged
			} else {
				masked[k] = maskRemoved
			}
		}
		setSecretData(live, masked)
	}
	if planned != nil {
		masked := make(map[string]any, len(plannedData))
		for k, v := range plannedData {
			lv, ok := liveData[k]
			switch {
			case live == nil || !ok:
				masked[k] = maskAdded
			case lv == v:
				masked[k] = maskUnchanged
			default:
				masked[k] = maskChanged
			}
		}
		setSecretData(planned, masked)
	}
}

// secretData returns a Secret's values by key as base64 strings, stringData
// folded in (the server never returns stringData, but a rendered object may
// carry it).
func secretData(obj map[string]any) map[string]string {
	out := map[string]string{}
	if obj == nil {
		return out
	}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			s, _ := v.(string)
			out[k] = s
		}
	}
	if d, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range d {
			s, _ := v.(string)
			out[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
	return out
}

func setSecretData(obj map[string]any, masked map[string]any) {
	delete(obj, "stringData")
	if len(masked) == 0 {
		delete(obj, "data")
		return
	}
	obj["data"] = masked
}
