package queue

// idSet remembers the last n ids added (a ring buffer plus an index), so
// memory stays bounded however long the bot runs.
type idSet struct {
	ring  []string
	next  int
	index map[string]bool
}

func newIDSet(n int) *idSet {
	return &idSet{ring: make([]string, n), index: make(map[string]bool, n)}
}

func (s *idSet) has(id string) bool { return s.index[id] }

func (s *idSet) add(id string) {
	if s.index[id] {
		return
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.index, old)
	}
	s.ring[s.next] = id
	s.index[id] = true
	s.next = (s.next + 1) % len(s.ring)
}
