package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	t.Parallel()

	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}

	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", []time.Duration{7}, 50, 7},
		{"one at p99", []time.Duration{7}, 99, 7},
		{"median of two is the lower", []time.Duration{1, 2}, 50, 1},
		{"median of three", []time.Duration{1, 2, 3}, 50, 2},
		{"p50 of 100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 100", hundred, 99, 99 * time.Millisecond},
		{"p100 is the max", hundred, 100, 100 * time.Millisecond},
		{"a tiny p is the min", hundred, 0.001, time.Millisecond},
		{"p99 of ten is the max", hundred[:10], 99, 10 * time.Millisecond},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, percentile(tt.sorted, tt.p))
		})
	}
}

func TestLatencyOfSortsAndReportsMilliseconds(t *testing.T) {
	t.Parallel()

	got := latencyOf([]time.Duration{
		3 * time.Millisecond, 1500 * time.Microsecond, 40 * time.Millisecond, 2 * time.Millisecond,
	})
	require.Equal(t, Latency{P50: 2, P90: 40, P99: 40, Max: 40}, got)
	require.Equal(t, Latency{}, latencyOf(nil))
}
