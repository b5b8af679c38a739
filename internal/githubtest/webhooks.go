package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Delivery is one webhook delivery attempt, as GitHub's "Recent
// Deliveries" lists it.
type Delivery struct {
	// ID is X-GitHub-Delivery; a redelivery reuses it.
	ID            string
	Event, Action string
	Payload       []byte
	// StatusCode is the receiver's answer; 0 when nothing answered (no
	// webhook URL configured, or the request failed: see Err).
	StatusCode int
	Err        string
	Latency    time.Duration
	At         time.Time
	Redelivery bool
}

// hookQueue delivers webhooks one at a time, in the order they happened,
// from its own goroutine, so state changes never wait for the receiver.
type hookQueue struct {
	s      *Server
	client *http.Client
	done   chan struct{}

	mu         sync.Mutex
	wake       *sync.Cond // signalled on every change to pending, inflight or closed
	pending    []*Delivery
	inflight   int // deliveries queued and not yet attempted
	url        string
	secret     string
	events     map[string]bool // subscribed events; nil: every event
	deliveries []*Delivery
	closed     bool
}

func newHookQueue(s *Server) *hookQueue {
	q := &hookQueue{
		s:      s,
		client: &http.Client{Timeout: 10 * time.Second}, // GitHub gives up after 10 s
		done:   make(chan struct{}),
		secret: s.app.WebhookSecret,
	}
	q.wake = sync.NewCond(&q.mu)
	go q.run()
	return q
}

// SetWebhook sets where deliveries go and the secret that signs them (the
// app's WebhookSecret when empty). Until it is called, deliveries are only
// recorded.
func (s *Server) SetWebhook(url, secret string) {
	if secret == "" {
		secret = s.App().WebhookSecret
	}
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.url, s.hooks.secret = url, secret
}

// subscribe points deliveries at an App registered from a manifest: its
// webhook URL ("" when inactive: nothing is sent), its secret, and only
// the events it subscribes to (plus those every App gets).
func (q *hookQueue) subscribe(url, secret string, events []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.url, q.secret = url, secret
	q.events = map[string]bool{}
	for _, e := range events {
		q.events[e] = true
	}
}

// Deliveries lists every delivery attempt so far, oldest first.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	out := make([]Delivery, len(s.hooks.deliveries))
	for i, d := range s.hooks.deliveries {
		out[i] = *d
	}
	return out
}

// WaitForDeliveries blocks until every webhook queued so far was attempted.
func (s *Server) WaitForDeliveries() {
	q := s.hooks
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.inflight > 0 {
		q.wake.Wait()
	}
}

// Redeliver sends delivery id again, with the same X-GitHub-Delivery, as
// GitHub's "Redeliver" button does.
func (s *Server) Redeliver(id string) error {
	s.hooks.mu.Lock()
	var orig *Delivery
	for _, d := range s.hooks.deliveries {
		if d.ID == id {
			orig = d
			break
		}
	}
	s.hooks.mu.Unlock()
	if orig == nil {
		return fmt.Errorf("githubtest: no delivery %s", id)
	}
	return s.hooks.enqueue(&Delivery{ID: orig.ID, Event: orig.Event, Action: orig.Action, Payload: orig.Payload, Redelivery: true})
}

// emit validates a payload against its webhook schema and queues it. A
// schema failure is a contract failure; the payload is delivered anyway, so
// the receiver's side of a test still runs.
func (s *Server) emit(event, action string, payload obj) {
	body, err := json.Marshal(payload)
	if err != nil {
		s.recordFailure(ContractFailure{Kind: "webhook", Method: event, Operation: event + "." + action, Err: "marshal: " + err.Error()})
		return
	}
	if err := s.schemas.validate(event, action, body); err != nil {
		s.recordFailure(ContractFailure{Kind: "webhook", Method: event, Operation: event + "." + action, Err: err.Error()})
	}
	s.armLags()
	if err := s.hooks.enqueue(&Delivery{ID: newGUID(), Event: event, Action: action, Payload: body}); err != nil {
		s.logf("githubtest: %v", err)
	}
}

func (q *hookQueue) enqueue(d *Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("githubtest: server closed, %s delivery dropped", d.Event)
	}
	if q.events != nil && !q.events[d.Event] && !alwaysDelivered[d.Event] {
		return nil // the App does not subscribe to it: GitHub sends nothing
	}
	q.inflight++
	q.pending = append(q.pending, d)
	q.wake.Broadcast()
	return nil
}

func (q *hookQueue) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.wake.Broadcast()
	q.mu.Unlock()
	<-q.done
}

// run delivers queued webhooks in order until the queue is closed and drained.
func (q *hookQueue) run() {
	defer close(q.done)
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		for len(q.pending) == 0 && !q.closed {
			q.wake.Wait()
		}
		if len(q.pending) == 0 {
			return
		}
		d := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		q.deliver(d)
		q.mu.Lock()
		q.inflight--
		q.wake.Broadcast()
	}
}

func (q *hookQueue) deliver(d *Delivery) {
	q.mu.Lock()
	url, secret := q.url, q.secret
	q.mu.Unlock()
	d.At = time.Now()
	if url != "" {
		q.post(d, url, secret)
	}
	q.mu.Lock()
	q.deliveries = append(q.deliveries, d)
	q.mu.Unlock()
	q.s.logf("githubtest: webhook %s.%s %s -> %d %s (%s)", d.Event, d.Action, d.ID, d.StatusCode, d.Err, d.Latency.Round(time.Microsecond))
}

// post sends d with the headers GitHub sends.
func (q *hookQueue) post(d *Delivery, url, secret string) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.Payload))
	if err != nil {
		d.Err = err.Error()
		return
	}
	app := q.s.App()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/githubtest")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.ID)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(app.ID+1, 10))
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(app.ID, 10))
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	if secret != "" {
		req.Header.Set("X-Hub-Signature", "sha1="+sign(sha1.New, secret, d.Payload))
		req.Header.Set("X-Hub-Signature-256", "sha256="+sign(sha256.New, secret, d.Payload))
	}
	start := time.Now()
	resp, err := q.client.Do(req)
	d.Latency = time.Since(start)
	if err != nil {
		d.Err = err.Error()
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	d.StatusCode = resp.StatusCode
}

func sign(h func() hash.Hash, secret string, payload []byte) string {
	m := hmac.New(h, []byte(secret))
	m.Write(payload)
	return hex.EncodeToString(m.Sum(nil))
}

// newGUID makes an X-GitHub-Delivery id (a random UUID, as GitHub's are).
func newGUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
