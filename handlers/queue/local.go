package queue

import (
	"context"
	"sync"
)

// LocalLocker is a Locker within one process: a mutex per key, for a bot
// running as a single replica (no home namespace configured), so that work
// outside the queue (the resync) and the queue's events of one pull
// request still run one at a time.
type LocalLocker struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the key is unlocked
}

// NewLocalLocker returns an empty LocalLocker.
func NewLocalLocker() *LocalLocker { return &LocalLocker{held: map[string]chan struct{}{}} }

// Lock implements Locker. held is ctx itself: a local lock cannot be lost.
func (l *LocalLocker) Lock(ctx context.Context, key string) (context.Context, func(), error) {
	for {
		l.mu.Lock()
		ch, busy := l.held[key]
		if !busy {
			ch = make(chan struct{})
			l.held[key] = ch
			l.mu.Unlock()
			var once sync.Once
			return ctx, func() {
				once.Do(func() {
					l.mu.Lock()
					delete(l.held, key)
					l.mu.Unlock()
					close(ch)
				})
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, nil, context.Cause(ctx)
		}
	}
}
