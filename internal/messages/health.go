package messages

import "time"

// HealthWindow is how many of an endpoint's newest attempts [Health] is
// read from, so that reading it stays cheap on an endpoint that has failed
// a million times.
const HealthWindow = 1000

// Health is how an endpoint is doing, as support needs to see it.
type Health struct {
	// BreakerState is the state of the endpoint's circuit breaker as a
	// worker last reported it: "closed", "open" or "half-open".
	// BreakerChangedAt is when; zero when it never changed.
	BreakerState     string
	BreakerChangedAt time.Time

	// LastAttemptAt is when the newest attempt started; zero when none did.
	LastAttemptAt time.Time

	// LastSuccessAt is when the newest successful attempt among the last
	// HealthWindow started; zero when none of them succeeded.
	LastSuccessAt time.Time

	// FailureStreak counts the failed attempts since the last success, up
	// to HealthWindow.
	FailureStreak int
}
