package breaker

import "time"

// The defaults for the zero fields of [Settings].
const (
	defaultFailures    = 5
	defaultCooldown    = 30 * time.Second
	defaultProbes      = 1
	defaultMaxInFlight = 16
	defaultBusyWait    = 250 * time.Millisecond
	defaultSlotWait    = 20 * time.Millisecond
)

// Settings configure a [Registry]. A zero or negative field takes its
// default.
type Settings struct {
	// Failures is how many consecutive failed attempts open an endpoint's
	// breaker. A success resets the run. Defaults to 5.
	Failures uint32

	// Cooldown is how long a breaker stays open before it lets probes
	// through (half-open). Defaults to 30s.
	Cooldown time.Duration

	// Probes is how many attempts may go through while half-open. The
	// breaker closes once that many have succeeded in a row and opens again
	// on the first that fails. Defaults to 1.
	Probes uint32

	// MaxInFlight bounds the requests in flight to one endpoint in this
	// process. Defaults to 16.
	MaxInFlight int

	// SlotWait is how long an attempt waits for one of its endpoint's
	// MaxInFlight slots to free before it is refused as busy. A fast
	// endpoint frees one within a few milliseconds, so its attempts queue
	// here instead of being put off. Attempts wait only while one of the
	// endpoint's took a slot or ended within the last SlotWait, so that
	// those of an endpoint that hangs do not hold their workers. Defaults to 20ms;
	// negative means no wait.
	SlotWait time.Duration

	// BusyWait is about how long a job should wait when its endpoint has
	// MaxInFlight requests in flight for longer than SlotWait; for an
	// endpoint that has made no progress for longer than that, the wait is
	// that long instead, up to Cooldown. Defaults to 250ms.
	BusyWait time.Duration

	// OnStateChange, when set, is told each time an endpoint's breaker
	// changes state, with the new state: "closed", "open" or "half-open".
	// It is called with the breaker's lock held and must not block.
	OnStateChange func(endpointID, state string)
}

// withDefaults returns s with its zero and negative fields set to their
// defaults.
func (s Settings) withDefaults() Settings {
	if s.Failures == 0 {
		s.Failures = defaultFailures
	}

	if s.Cooldown <= 0 {
		s.Cooldown = defaultCooldown
	}

	if s.Probes == 0 {
		s.Probes = defaultProbes
	}

	if s.MaxInFlight <= 0 {
		s.MaxInFlight = defaultMaxInFlight
	}

	switch {
	case s.SlotWait == 0:
		s.SlotWait = defaultSlotWait
	case s.SlotWait < 0:
		s.SlotWait = 0
	}

	if s.BusyWait <= 0 {
		s.BusyWait = defaultBusyWait
	}

	return s
}
