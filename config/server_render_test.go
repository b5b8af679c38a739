package config

import (
	"strings"
	"testing"
)

func TestLoadServerAppRenderBound(t *testing.T) {
	s, err := LoadServerApp(writeAppConfig(t, appConfig+"render: {concurrency: 3, buffer_bytes: 1073741824}\n"))
	if err != nil {
		t.Fatalf("LoadServerApp: %v", err)
	}
	if s.Render.Concurrency != 3 || s.Render.BufferBytes != 1<<30 {
		t.Errorf("render = %+v, want 3 renders and 1 GiB", s.Render)
	}
	_, err = LoadServerApp(writeAppConfig(t, appConfig+"render: {concurrency: -1}\n"))
	if err == nil || !strings.Contains(err.Error(), "render: concurrency and buffer_bytes must be positive") {
		t.Errorf("negative concurrency: err = %v", err)
	}
	_, err = LoadServerApp(writeAppConfig(t, appConfig+"render: {slots: 2}\n"))
	if err == nil || !strings.Contains(err.Error(), "slots") {
		t.Errorf("unknown key render.slots: err = %v", err)
	}
}
