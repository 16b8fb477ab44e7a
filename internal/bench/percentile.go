package bench

import (
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value that at least p percent of the
// values are at or below. It returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}

	rank := int(math.Ceil(p / 100 * float64(len(sorted))))

	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Latency is the publish-to-receive latency of the deliveries of a run, in
// milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// latencyOf sorts latencies in place and summarizes them.
func latencyOf(latencies []time.Duration) Latency {
	slices.Sort(latencies)

	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

	return Latency{
		P50: ms(percentile(latencies, 50)),
		P90: ms(percentile(latencies, 90)),
		P99: ms(percentile(latencies, 99)),
		Max: ms(percentile(latencies, 100)),
	}
}
