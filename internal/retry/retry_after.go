package retry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bounds on the wait [RetryAfter] returns.
const (
	// MinRetryAfter is the shortest wait a receiver can ask for, so that a
	// Retry-After of 0 or of a past date does not make Herald retry in a
	// tight loop.
	MinRetryAfter = time.Second

	// MaxRetryAfter is the longest wait a receiver can ask for, so that a
	// delivery is not parked for longer than the longest default wait.
	MaxRetryAfter = 24 * time.Hour
)

// RetryAfter parses the value of a Retry-After header, either delay-seconds
// such as "120" or an HTTP-date such as "Wed, 21 Oct 2015 07:28:00 GMT" (or
// either of the two obsolete date formats [http.ParseTime] accepts), and
// returns the wait it asks for, measured from now for a date.
//
// The wait is clamped to [MinRetryAfter, MaxRetryAfter]: a date in the past
// gives MinRetryAfter, and a number of seconds, however long, gives at most
// MaxRetryAfter. RetryAfter returns false for a blank value and for one that
// is neither form, including a negative or fractional number. Spaces around
// the value are ignored.
//
// RetryAfter does not look at the status code: callers decide which
// responses they honor a Retry-After on.
//
//nolint:revive // named for the Retry-After header, not a stutter of retry
func RetryAfter(value string, now time.Time) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}

	if isDigits(value) {
		return clamp(parseSeconds(value)), true
	}

	t, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return clamp(t.Sub(now)), true
}

// isDigits reports whether s is made only of the ASCII digits that
// delay-seconds allows, with no sign, point or exponent.
func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseSeconds turns a string of digits into a duration, saturating at
// just over MaxRetryAfter instead of overflowing.
func parseSeconds(digits string) time.Duration {
	const limit = int64(MaxRetryAfter/time.Second) + 1

	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > limit {
		// Only a range error is possible for a string of digits.
		n = limit
	}
	return time.Duration(n) * time.Second
}

// clamp keeps d within [MinRetryAfter, MaxRetryAfter].
func clamp(d time.Duration) time.Duration {
	return min(max(d, MinRetryAfter), MaxRetryAfter)
}
