// Package breaker keeps Herald from hammering endpoints that cannot take
// deliveries. It holds two guards per endpoint, both local to the process:
//
//   - a circuit breaker that opens after a run of failed attempts, refuses
//     every attempt for a cooldown, then lets a few probes through
//     (half-open) and closes again once they succeed;
//   - a bound on the requests in flight to the endpoint at once, so that
//     one slow or hanging endpoint cannot take every worker slot.
//
// A delivery job calls [Registry.Acquire] before it sends. When it gets
// [ErrOpen] or [ErrBusy] it sends nothing and snoozes for the wait it was
// given; otherwise it sends and reports the outcome through the release
// func. No lock is held while the request is in flight.
package breaker

import "errors"

var (
	// ErrOpen means the endpoint's breaker refused the attempt: it is open,
	// or half-open with all of its probes already taken.
	ErrOpen = errors.New("breaker: open")

	// ErrBusy means the endpoint already has [Settings.MaxInFlight]
	// requests in flight in this process.
	ErrBusy = errors.New("breaker: endpoint busy")
)

var (
	// errFailed reports a failed attempt to the circuit breaker.
	errFailed = errors.New("breaker: attempt failed")

	// errNotSent hands an allowed attempt back to the circuit breaker
	// uncounted, when the in-flight bound stopped it before it was sent.
	errNotSent = errors.New("breaker: attempt not sent")
)
