package cli

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// unusedConns tracks the connections of an http.Server that have not sent
// a request yet. Browsers open such connections ahead of need, and
// http.Server.Shutdown waits for them as if a request were coming; closing
// them when shutdown starts lets a process stop at once.
type unusedConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// track is an http.Server ConnState hook.
func (u *unusedConns) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()

	if u.conns == nil {
		u.conns = make(map[net.Conn]struct{})
	}

	if state == http.StateNew {
		u.conns[c] = struct{}{}
	} else {
		delete(u.conns, c)
	}
}

// close closes every connection still waiting for its first request.
func (u *unusedConns) close() {
	u.mu.Lock()
	defer u.mu.Unlock()

	for c := range u.conns {
		_ = c.Close()
		delete(u.conns, c)
	}
}

// sweepInterval is how often shutdown closes the connections that were
// accepted while it began.
const sweepInterval = 50 * time.Millisecond

// shutdown stops srv as http.Server.Shutdown does, closing the unused
// connections as it goes: one accepted just before the listener closed is
// tracked a moment later, so they are swept until shutdown ends.
func shutdown(ctx context.Context, srv *http.Server, unused *unusedConns) error {
	unused.close()

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()

	ticker := time.NewTicker(sweepInterval)
	defer ticker.Stop()

	for {
		select {
		case err := <-done:
			return err //nolint:wrapcheck // wrapped by the caller
		case <-ticker.C:
			unused.close()
		}
	}
}
