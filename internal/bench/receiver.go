package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Limits of the receiver.
const (
	// maxHang bounds how long a hanging inbox holds a request, should its
	// sender never give up.
	maxHang = 2 * time.Minute

	// maxBody bounds the body read from one webhook.
	maxBody = 1 << 20
)

// receiver is the webhook receiver of a benchmark, on 127.0.0.1: one inbox
// per endpoint, each at /hook/{name}. It answers fast, with keep-alive,
// and verifies every signature.
type receiver struct {
	srv *http.Server
	url string

	// release lets hanging requests go when closed.
	release     chan struct{}
	releaseOnce sync.Once

	mu      sync.Mutex
	inboxes map[string]*inbox

	// healthy counts distinct webhook-ids arrived at inboxes that answer.
	healthy int
}

// inbox is what one endpoint received.
type inbox struct {
	verifier *standardwebhooks.Webhook

	// hang holds every request until its sender gives up.
	hang bool

	// arrived maps each verified webhook-id to when it first arrived.
	arrived map[string]time.Time

	duplicates     int
	verifyFailures int
	hung           int
}

// newReceiver starts a receiver on a free port of 127.0.0.1.
func newReceiver(ctx context.Context) (*receiver, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("receiver: %w", err)
	}

	r := &receiver{
		url:     "http://" + ln.Addr().String(),
		release: make(chan struct{}),
		inboxes: make(map[string]*inbox),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook/{name}", r.serveHook)
	r.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	go func() { _ = r.srv.Serve(ln) }()

	return r, nil
}

// add opens an inbox that verifies with secret and returns its URL.
func (r *receiver) add(name, secret string, hang bool) (string, error) {
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return "", fmt.Errorf("secret of %s: %w", name, err)
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	r.inboxes[name] = &inbox{verifier: v, hang: hang, arrived: make(map[string]time.Time)}

	return r.url + "/hook/" + name, nil
}

// serveHook receives one webhook.
func (r *receiver) serveHook(w http.ResponseWriter, req *http.Request) {
	at := time.Now()

	r.mu.Lock()
	box := r.inboxes[req.PathValue("name")]
	r.mu.Unlock()

	if box == nil {
		http.NotFound(w, req)
		return
	}

	if box.hang {
		r.hold(w, req, box)
		return
	}

	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	if err == nil {
		err = box.verifier.Verify(body, req.Header)
	}

	r.mu.Lock()
	defer r.mu.Unlock()

	if err != nil {
		box.verifyFailures++
		http.Error(w, "signature does not verify", http.StatusBadRequest)

		return
	}

	id := req.Header.Get(standardwebhooks.HeaderWebhookID)
	if _, seen := box.arrived[id]; seen {
		box.duplicates++
	} else {
		box.arrived[id] = at
		r.healthy++
	}

	w.WriteHeader(http.StatusNoContent)
}

// hold keeps a request to a hanging inbox until its sender gives up, the
// receiver lets go, or maxHang passes.
func (r *receiver) hold(w http.ResponseWriter, req *http.Request, box *inbox) {
	r.mu.Lock()
	box.hung++
	r.mu.Unlock()

	timer := time.NewTimer(maxHang)
	defer timer.Stop()

	select {
	case <-req.Context().Done():
	case <-r.release:
	case <-timer.C:
	}

	w.WriteHeader(http.StatusServiceUnavailable)
}

// healthyCount returns how many distinct webhook-ids have arrived at the
// inboxes that answer.
func (r *receiver) healthyCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return r.healthy
}

// missing counts the ids of want that have not arrived at each of names.
func (r *receiver) missing(names []string, want map[string]time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()

	n := 0

	for _, name := range names {
		arrived := r.inboxes[name].arrived
		for id := range want {
			if _, ok := arrived[id]; !ok {
				n++
			}
		}
	}

	return n
}

// await waits until every id of want has arrived at each of names, or ctx
// is done. It polls a count, and compares ids only once the count is
// reached.
func (r *receiver) await(ctx context.Context, names []string, want map[string]time.Time) {
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()

	target := len(names) * len(want)

	for {
		if r.healthyCount() >= target && r.missing(names, want) == 0 {
			return
		}

		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// letGo releases every hanging request, now and to come.
func (r *receiver) letGo() {
	r.releaseOnce.Do(func() { close(r.release) })
}

// close lets hanging requests go and stops the server at once. It does not
// wait for connections to go idle: Herald may hold some open that never
// carry a request, which a graceful shutdown would wait 5s for.
func (r *receiver) close() error {
	r.letGo()

	if err := r.srv.Close(); err != nil {
		return fmt.Errorf("stop receiver: %w", err)
	}

	return nil
}
