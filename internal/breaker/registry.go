package breaker

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// minOpenWait is the shortest wait [Registry.Acquire] gives with [ErrOpen],
// unless the cooldown itself is shorter.
const minOpenWait = 100 * time.Millisecond

// Registry holds the guards of every endpoint it has been asked about: one
// circuit breaker and one in-flight count each. It is safe for concurrent
// use.
type Registry struct {
	settings Settings

	// openFloor is the shortest wait given with ErrOpen.
	openFloor time.Duration

	// endpoints maps an endpoint ID to its *endpoint.
	endpoints sync.Map
}

// NewRegistry returns an empty Registry whose endpoints all use s.
func NewRegistry(s Settings) *Registry {
	s = s.withDefaults()

	return &Registry{
		settings:  s,
		openFloor: min(minOpenWait, s.Cooldown),
	}
}

// Acquire asks to send one request to the endpoint.
//
// When the attempt may go ahead, Acquire returns a release func which the
// caller must call once the attempt is over, reporting whether it succeeded.
// Until then the attempt holds one of the endpoint's in-flight slots and,
// while half-open, one of its probes. Only the first call of release counts.
// Outcomes of attempts that began before the breaker last changed state are
// ignored.
//
// When every slot is taken, Acquire waits up to SlotWait for one, but only
// while the endpoint is making progress: an attempt of it took a slot or
// ended within the last SlotWait. The attempts of an endpoint that hangs
// are refused at once instead of holding their workers.
//
// Otherwise Acquire returns a nil release, an error and how long to wait
// before asking again:
//
//   - [ErrOpen] while the breaker is open, with the time left until it turns
//     half-open, but at least 100ms (or Cooldown, if shorter);
//   - [ErrOpen] while half-open with every probe taken, with a wait drawn at
//     random from that minimum up to Cooldown, so that queued jobs neither
//     poll while a probe is out nor all return together once it is back;
//   - [ErrBusy] when the endpoint has MaxInFlight requests in flight and
//     made no progress within SlotWait, or the wait ran out, or ctx ended
//     it, with BusyWait plus up to a fifth more at random, so that waiting
//     jobs do not wake together.
//
// A refused breaker wins over a full endpoint: while open, Acquire returns
// ErrOpen at once whatever is in flight.
func (r *Registry) Acquire(
	ctx context.Context, endpointID string,
) (release func(success bool), wait time.Duration, err error) {
	return r.AcquireWithin(ctx, endpointID, r.settings.SlotWait)
}

// AcquireWithin is [Registry.Acquire], but waits for a slot for as long as
// patience while the endpoint keeps making progress, rather than for one
// SlotWait: each SlotWait must see an attempt of the endpoint end for the
// wait to go on. A job with many attempts to one fast endpoint uses it to
// send them all within its own run.
func (r *Registry) AcquireWithin(
	ctx context.Context, endpointID string, patience time.Duration,
) (release func(success bool), wait time.Duration, err error) {
	e := r.endpoint(endpointID)

	done, err := e.cb.Allow()
	if err != nil {
		return nil, r.openWait(e, err), ErrOpen
	}

	if e.tryReserve() {
		return e.release(done), 0, nil
	}

	// Every slot is taken. The attempt hands its leave from the breaker
	// back while it waits, so that it holds no probe meanwhile, and asks
	// again once it has a slot, so that it is not sent to an endpoint whose
	// breaker opened while it waited.
	done(errNotSent)

	if !r.waitSlot(ctx, e, patience) {
		return nil, r.busyWait(e), ErrBusy
	}

	if done, err = e.cb.Allow(); err != nil {
		e.free()
		return nil, r.openWait(e, err), ErrOpen
	}

	return e.release(done), 0, nil
}

// Held reports whether [Registry.Acquire] would refuse an attempt to the
// endpoint now without waiting, and if so how long to wait before asking
// again, as Acquire would say: its breaker is open, or every slot is taken
// by attempts that neither started nor ended within SlotWait. It takes
// nothing, so a job can ask it before doing any work for an attempt that
// would be refused.
func (r *Registry) Held(endpointID string) (time.Duration, bool) {
	v, ok := r.endpoints.Load(endpointID)
	if !ok {
		return 0, false
	}

	e, _ := v.(*endpoint)

	switch {
	case e.cb.State() == gobreaker.StateOpen:
		return r.openWait(e, gobreaker.ErrOpenState), true
	case e.inFlight() == cap(e.slots) && !e.progressing(r.settings.SlotWait):
		return r.busyWait(e), true
	}

	return 0, false
}

// State returns the state of the endpoint's breaker, "closed", "open" or
// "half-open", for health displays. An endpoint the Registry has not seen
// is "closed".
func (r *Registry) State(endpointID string) string {
	v, ok := r.endpoints.Load(endpointID)
	if !ok {
		return gobreaker.StateClosed.String()
	}

	e, _ := v.(*endpoint)

	return e.cb.State().String()
}

// Forget drops the endpoint's breaker and in-flight count, as when the
// endpoint is deleted. Attempts still in flight release into the dropped
// count, so an endpoint asked about again starts closed and idle.
func (r *Registry) Forget(endpointID string) {
	r.endpoints.Delete(endpointID)
}

// endpoint returns the guards of the endpoint id, made on first use.
func (r *Registry) endpoint(id string) *endpoint {
	v, ok := r.endpoints.Load(id)
	if !ok {
		v, _ = r.endpoints.LoadOrStore(id, newEndpoint(id, r.settings))
	}

	e, _ := v.(*endpoint)

	return e
}

// waitSlot waits up to patience for a slot of e to free and takes it, in
// steps of SlotWait, each while e makes progress. It reports whether it got
// one.
func (r *Registry) waitSlot(ctx context.Context, e *endpoint, patience time.Duration) bool {
	deadline := time.Now().Add(patience)

	for {
		wait := min(r.settings.SlotWait, time.Until(deadline))
		if wait <= 0 || !e.progressing(r.settings.SlotWait) {
			return false
		}

		if e.waitReserve(ctx, wait) {
			return true
		}

		if ctx.Err() != nil {
			return false
		}
	}
}

// openWait returns how long to wait after the breaker of e refused an
// attempt with err.
func (r *Registry) openWait(e *endpoint, err error) time.Duration {
	if errors.Is(err, gobreaker.ErrTooManyRequests) {
		return jitter(r.openFloor, r.settings.Cooldown)
	}

	return max(e.untilHalfOpen(r.settings.Cooldown), r.openFloor)
}

// busyWait returns how long to wait when endpoint e is busy: BusyWait, or
// as long as it has made no progress when that is longer, up to Cooldown.
// An endpoint that has held every slot for a second will likely hold them
// for another, so its jobs ask again less often the longer it hangs.
func (r *Registry) busyWait(e *endpoint) time.Duration {
	var (
		least = r.settings.BusyWait
		most  = max(least, r.settings.Cooldown)
		wait  = min(max(least, e.sinceProgress()), most)
	)

	return jitter(wait, wait+wait/5)
}

// jitter returns a random duration from lo up to hi, or lo if hi is not
// above it.
func jitter(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}

	// Jitter needs no secrecy.
	return lo + rand.N(hi-lo) //nolint:gosec // see above
}
