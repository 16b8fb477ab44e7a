package breaker

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// endpoint holds the guards of one endpoint.
type endpoint struct {
	// cb decides whether an attempt may be sent at all.
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]

	// slots holds one token per attempt acquired and not yet released;
	// its capacity is the most attempts in flight.
	slots chan struct{}

	// lastProgress is when an attempt last took a slot or ended, in Unix
	// nanoseconds; it starts as the endpoint's creation. An endpoint whose
	// attempts start and end often is worth waiting for; one whose slots
	// are all held by attempts that do not end is not.
	lastProgress atomic.Int64

	// openedAt is when cb last opened; nil until it first does. It is
	// written under cb's lock and read outside it.
	openedAt atomic.Pointer[time.Time]

	// notify is [Settings.OnStateChange]; nil when unset.
	notify func(endpointID, state string)
}

// newEndpoint returns the guards for the endpoint id, closed and idle.
func newEndpoint(id string, s Settings) *endpoint {
	e := &endpoint{notify: s.OnStateChange, slots: make(chan struct{}, s.MaxInFlight)}
	e.progress()
	e.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        id,
		MaxRequests: s.Probes,
		Timeout:     s.Cooldown,
		ReadyToTrip: func(counts gobreaker.Counts) bool {
			return counts.ConsecutiveFailures >= s.Failures
		},
		OnStateChange: e.onStateChange,
		IsExcluded: func(err error) bool {
			// Only this package passes errors in, never wrapped.
			return err == errNotSent //nolint:errorlint // see above
		},
	})

	return e
}

// onStateChange records when the breaker opens and passes every change
// on. The breaker calls it with its lock held.
func (e *endpoint) onStateChange(id string, _, to gobreaker.State) {
	if to == gobreaker.StateOpen {
		now := time.Now()
		e.openedAt.Store(&now)
	}

	if e.notify != nil {
		e.notify(id, to.String())
	}
}

// untilHalfOpen returns how long the breaker, open for a cooldown, has left
// before it turns half-open.
func (e *endpoint) untilHalfOpen(cooldown time.Duration) time.Duration {
	opened := e.openedAt.Load()
	if opened == nil {
		return cooldown
	}

	return cooldown - time.Since(*opened)
}

// tryReserve takes one of the in-flight slots if one is free, and reports
// whether it did.
func (e *endpoint) tryReserve() bool {
	select {
	case e.slots <- struct{}{}:
		e.progress()
		return true
	default:
		return false
	}
}

// progress notes that an attempt took a slot or ended just now.
func (e *endpoint) progress() {
	e.lastProgress.Store(time.Now().UnixNano())
}

// progressing reports whether an attempt of the endpoint took a slot or
// ended within the last window: one that answers fast frees a slot every
// few milliseconds, and a burst to an idle one has just taken its slots,
// while one that hangs holds all of them until they time out.
func (e *endpoint) progressing(window time.Duration) bool {
	return e.sinceProgress() < window
}

// sinceProgress returns how long ago an attempt of the endpoint last took
// a slot or ended.
func (e *endpoint) sinceProgress() time.Duration {
	return time.Since(time.Unix(0, e.lastProgress.Load()))
}

// waitReserve waits up to wait for a slot to free and takes it, and reports
// whether it did. It gives up early when ctx is done.
func (e *endpoint) waitReserve(ctx context.Context, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()

	select {
	case e.slots <- struct{}{}:
		e.progress()
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// free gives back a slot taken by tryReserve or waitReserve.
func (e *endpoint) free() {
	e.progress()
	<-e.slots
}

// inFlight returns how many attempts hold a slot.
func (e *endpoint) inFlight() int {
	return len(e.slots)
}

// release returns the func that ends an attempt: it reports the outcome
// through done, then frees the attempt's slot. Only its first call counts.
//
// The outcome goes first so that a failure which opens the breaker does so
// before the slot lets another attempt in.
func (e *endpoint) release(done func(error)) func(success bool) {
	var released atomic.Bool

	return func(success bool) {
		if !released.CompareAndSwap(false, true) {
			return
		}

		if success {
			done(nil)
		} else {
			done(errFailed)
		}

		e.free()
	}
}
