package config

import (
	"strings"
	"testing"
	"time"
)

func TestServerHomeAndResync(t *testing.T) {
	for _, c := range []struct {
		name, extra string
		home        Home
		every       time.Duration
		err         string
	}{
		{name: "absent: single replica", home: Home{Namespace: DefaultHomeNamespace}, every: DefaultResyncInterval},
		{name: "cluster", extra: "home: {cluster: staging}\nresync: {interval: 2m}\n",
			home: Home{Cluster: "staging", Namespace: DefaultHomeNamespace}, every: 2 * time.Minute},
		{name: "in cluster", extra: "home: {in_cluster: true, namespace: bots}\nresync: {interval: \"off\"}\n",
			home: Home{InCluster: true, Namespace: "bots"}},
		{name: "unknown cluster", extra: "home: {cluster: nope}\n", err: `home.cluster "nope" is not in clusters:`},
		{name: "both", extra: "home: {cluster: staging, in_cluster: true}\n", err: "home: give cluster or in_cluster, not both"},
		{name: "bad interval", extra: "resync: {interval: soon}\n", err: `resync.interval "soon": want a duration like 5m, or off`},
		{name: "too short", extra: "resync: {interval: 1s}\n", err: "resync.interval 1s: at least 10s"},
		{name: "typo", extra: "home: {namepsace: x}\n", err: "field namepsace not found"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadServerApp(writeAppConfig(t, appConfig+c.extra))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Home != c.home || s.Resync.Every != c.every {
				t.Errorf("home %+v every %s; want %+v %s", s.Home, s.Resync.Every, c.home, c.every)
			}
			if s.Home.Enabled() != (c.home.Cluster != "" || c.home.InCluster) {
				t.Errorf("Enabled() = %v", s.Home.Enabled())
			}
		})
	}
}
