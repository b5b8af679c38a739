package config

import (
	"fmt"
	"testing"
)

func TestOrderedPutsAfterFirst(t *testing.T) {
	envs := []Environment{
		{Name: "canary", After: []string{"staging"}},
		{Name: "prod", After: []string{"canary", "staging"}},
		{Name: "qa"},
		{Name: "staging", After: []string{"qa", "gone"}},
	}
	var got []string
	for _, e := range Ordered(envs) {
		got = append(got, e.Name)
	}
	if fmt.Sprint(got) != "[qa staging canary prod]" {
		t.Errorf("Ordered = %v, want [qa staging canary prod]", got)
	}
}
