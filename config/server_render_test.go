package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadServerAppRenderBound(t *testing.T) {
	s, err := LoadServerApp(writeAppConfig(t, appConfig+"render: {concurrency: 3, buffer_bytes: 1073741824, timeout: 45s}\n"))
	if err != nil {
		t.Fatalf("LoadServerApp: %v", err)
	}
	if s.Render.Concurrency != 3 || s.Render.BufferBytes != 1<<30 || s.Render.Timeout != 45*time.Second {
		t.Errorf("render = %+v, want 3 renders, 1 GiB and 45s", s.Render)
	}
	_, err = LoadServerApp(writeAppConfig(t, appConfig+"render: {concurrency: -1}\n"))
	if err == nil || !strings.Contains(err.Error(), "render: concurrency, buffer_bytes and timeout must be positive") {
		t.Errorf("negative concurrency: err = %v", err)
	}
	_, err = LoadServerApp(writeAppConfig(t, appConfig+"render: {slots: 2}\n"))
	if err == nil || !strings.Contains(err.Error(), "slots") {
		t.Errorf("unknown key render.slots: err = %v", err)
	}
}
