package retry

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultSchedule is the schedule used unless an operator sets
// HERALD_RETRY_SCHEDULE: retries after 5s, 5m, 30m, 2h, 5h, 10h, 14h, 20h
// and 24h, for ten attempts over about three days.
//
// Every caller shares it, so treat it as read-only; clone it with
// [slices.Clone] before changing it.
var DefaultSchedule = Schedule{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
	20 * time.Hour,
	24 * time.Hour,
}

const (
	// maxItems is the longest schedule ParseSchedule accepts.
	maxItems = 50

	// maxWait is the longest single wait ParseSchedule accepts.
	maxWait = 7 * 24 * time.Hour
)

// errEmptySchedule is returned by ParseSchedule for a blank list.
var errEmptySchedule = errors.New("retry schedule: empty")

// Schedule is the wait before each retry: Schedule[0] after the first failed
// attempt, Schedule[1] after the second, and so on. A delivery gets
// len(Schedule)+1 attempts in all.
//
// A Schedule encodes as text in the form [ParseSchedule] reads, so it can be
// read straight from an environment variable or shown in a JSON log line.
type Schedule []time.Duration

// ParseSchedule parses a comma-separated list of Go durations such as
// "5s,5m,1h30m", with spaces allowed around each item. A zero wait is
// allowed and means retry at once.
//
// It refuses an empty list, an empty or negative item, more than 50 items
// and any wait over 7 days (168h). Its errors name the bad item by position
// and by text.
func ParseSchedule(s string) (Schedule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errEmptySchedule
	}

	if n := strings.Count(s, ",") + 1; n > maxItems {
		return nil, fmt.Errorf("retry schedule: %d items, more than %d",
			n, maxItems)
	}

	items := strings.Split(s, ",")
	sched := make(Schedule, len(items))
	for i, item := range items {
		d, err := parseItem(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("retry schedule: item %d: %w", i+1, err)
		}
		sched[i] = d
	}
	return sched, nil
}

// parseItem parses one trimmed item of a schedule and checks its range.
func parseItem(item string) (time.Duration, error) {
	if item == "" {
		return 0, errors.New("is empty")
	}

	d, err := time.ParseDuration(item)
	switch {
	case err != nil:
		return 0, err
	case d < 0:
		return 0, fmt.Errorf("%q is negative", item)
	case d > maxWait:
		return 0, fmt.Errorf("%q is more than %s", item, formatDuration(maxWait))
	}
	return d, nil
}

// String formats the schedule as [ParseSchedule] reads it, such as
// "5s,5m,1h30m". The empty schedule formats as "", which ParseSchedule
// refuses.
func (s Schedule) String() string {
	items := make([]string, len(s))
	for i, d := range s {
		items[i] = formatDuration(d)
	}
	return strings.Join(items, ",")
}

// formatDuration writes d as [time.Duration.String] does, less the zero
// minutes and seconds it adds to whole hours and minutes: "2h", not
// "2h0m0s". [time.ParseDuration] reads both forms.
func formatDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}

// MarshalText implements [encoding.TextMarshaler] with [Schedule.String].
func (s Schedule) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseSchedule].
func (s *Schedule) UnmarshalText(text []byte) error {
	sched, err := ParseSchedule(string(text))
	if err != nil {
		return err
	}
	*s = sched
	return nil
}

// Attempts returns the total number of attempts the schedule allows: the
// first one and a retry for each wait, len(s)+1.
func (s Schedule) Attempts() int {
	return len(s) + 1
}

// Next returns the wait before the next attempt once failed attempts have
// failed, and false when the schedule is exhausted because failed is more
// than len(s). A failed count below 1 counts as 1: the first attempt is the
// least that can have failed.
//
// The wait is s[failed-1] times a factor drawn uniformly from
// [1-jitter, 1+jitter], so a jitter of 0.2 spreads waits over ±20% and a
// jitter of 0 returns the wait exactly. Jitter outside [0, 1] is clamped to
// it, and a negative wait in s counts as 0. The factor comes from rng, or
// from the concurrency-safe top-level source of math/rand/v2 when rng is
// nil.
func (s Schedule) Next(failed int, jitter float64, rng *rand.Rand) (time.Duration, bool) {
	failed = max(failed, 1)
	if failed > len(s) {
		return 0, false
	}

	wait := max(s[failed-1], 0)
	if !(jitter > 0) { // also catches NaN
		return wait, true
	}
	jitter = min(jitter, 1)

	factor := 1 + jitter*(2*float01(rng)-1)
	return scale(wait, factor), true
}

// float01 draws a float64 in [0, 1) from rng, or from the top-level source
// when rng is nil.
func float01(rng *rand.Rand) float64 {
	if rng == nil {
		return rand.Float64() //nolint:gosec // jitter needs no secrecy
	}
	return rng.Float64()
}

// scale multiplies d by a factor in [0, 2], saturating instead of
// overflowing.
func scale(d time.Duration, factor float64) time.Duration {
	f := float64(d) * factor
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(f)
}
