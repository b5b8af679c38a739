package ops

import (
	"context"

	"github.com/tugboatops/tugboat/config"
	"github.com/tugboatops/tugboat/kube"
)

func (s *memState) Pin(_ context.Context, env config.Environment, _ string) (*kube.Pin, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pins[env.Name]; ok {
		return &p, nil
	}
	return nil, nil
}

func (s *memState) SetPin(_ context.Context, env config.Environment, _ string, p kube.Pin) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pins == nil {
		s.pins = map[string]kube.Pin{}
	}
	s.pins[env.Name] = p
	return nil
}

func (s *memState) Unpin(_ context.Context, env config.Environment, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pins, env.Name)
	return nil
}
