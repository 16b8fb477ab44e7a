package retry_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/retry"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      string
		want    retry.Schedule
		wantErr string
	}{
		{"default", "5s,5m,30m,2h,5h,10h,14h,20h,24h", retry.DefaultSchedule, ""},
		{"long forms", "5m0s, 2h0m0s", retry.Schedule{5 * time.Minute, 2 * time.Hour}, ""},
		{"one item", "1s", retry.Schedule{time.Second}, ""},
		{"spaces", " 1s ,\t2s,  5s\n", retry.Schedule{time.Second, 2 * time.Second, 5 * time.Second}, ""},
		{"mixed units", "1h30m,250ms", retry.Schedule{90 * time.Minute, 250 * time.Millisecond}, ""},
		{"zero", "0s", retry.Schedule{0}, ""},
		{"bare zero", "0", retry.Schedule{0}, ""},
		{"seven days", "168h", retry.Schedule{7 * 24 * time.Hour}, ""},
		{"fifty items", strings.Repeat("1s,", 49) + "1s", slicesRepeat(time.Second, 50), ""},

		{"empty", "", nil, "retry schedule: empty"},
		{"blank", " \t ", nil, "retry schedule: empty"},
		{"bad item", "1s,abc,5s", nil, `retry schedule: item 2: time: invalid duration "abc"`},
		{"days unit", "1s,2d", nil, `retry schedule: item 2: time: unknown unit "d" in duration "2d"`},
		{"no unit", "5", nil, `retry schedule: item 1: time: missing unit in duration "5"`},
		{"empty item", "1s,,5s", nil, "retry schedule: item 2: is empty"},
		{"trailing comma", "1s,", nil, "retry schedule: item 2: is empty"},
		{"negative", "1s,2s,-3s", nil, `retry schedule: item 3: "-3s" is negative`},
		{"over seven days", "1s, 168h1s", nil, `retry schedule: item 2: "168h1s" is more than 168h`},
		{"too many", strings.Repeat("1s,", 50) + "1s", nil, "retry schedule: 51 items, more than 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := retry.ParseSchedule(tt.in)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestScheduleString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		sched retry.Schedule
		want  string
	}{
		{"default", retry.DefaultSchedule, "5s,5m,30m,2h,5h,10h,14h,20h,24h"},
		{"empty", retry.Schedule{}, ""},
		{"zero", retry.Schedule{0}, "0s"},
		{"fractions", retry.Schedule{1500 * time.Millisecond, 250 * time.Microsecond}, "1.5s,250µs"},
		{"mixed", retry.Schedule{90 * time.Minute, time.Hour + 5*time.Second, time.Hour + time.Minute}, "1h30m,1h0m5s,1h1m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := tt.sched.String()
			require.Equal(t, tt.want, got)
			if len(tt.sched) == 0 {
				return
			}

			back, err := retry.ParseSchedule(got)
			require.NoError(t, err)
			require.Equal(t, tt.sched, back)
		})
	}
}

func TestScheduleText(t *testing.T) {
	t.Parallel()

	var cfg struct {
		Retries retry.Schedule `json:"retries"`
	}
	err := json.Unmarshal([]byte(`{"retries": "1s, 2s, 5s"}`), &cfg)
	require.NoError(t, err)
	require.Equal(t, retry.Schedule{time.Second, 2 * time.Second, 5 * time.Second}, cfg.Retries)

	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.JSONEq(t, `{"retries": "1s,2s,5s"}`, string(out))

	err = json.Unmarshal([]byte(`{"retries": "1s,-2s"}`), &cfg)
	require.ErrorContains(t, err, `retry schedule: item 2: "-2s" is negative`)
	require.Equal(t, retry.Schedule{time.Second, 2 * time.Second, 5 * time.Second}, cfg.Retries)
}

func TestScheduleAttempts(t *testing.T) {
	t.Parallel()

	require.Equal(t, 10, retry.DefaultSchedule.Attempts())
	require.Equal(t, 1, retry.Schedule{}.Attempts())
	require.Equal(t, 4, retry.Schedule{time.Second, 2 * time.Second, 5 * time.Second}.Attempts())
}

func TestScheduleNextExact(t *testing.T) {
	t.Parallel()

	sched := retry.Schedule{time.Second, 0, 5 * time.Minute, -time.Second}
	tests := []struct {
		name   string
		failed int
		jitter float64
		want   time.Duration
		wantOK bool
	}{
		{"first failure", 1, 0, time.Second, true},
		{"zero wait", 2, 0, 0, true},
		{"third failure", 3, 0, 5 * time.Minute, true},
		{"negative wait counts as zero", 4, 0, 0, true},
		{"exhausted", 5, 0, 0, false},
		{"far past the end", 100, 0, 0, false},
		{"zero failed counts as one", 0, 0, time.Second, true},
		{"negative failed counts as one", -3, 0, time.Second, true},
		{"negative jitter counts as zero", 3, -0.5, 5 * time.Minute, true},
		{"NaN jitter counts as zero", 3, math.NaN(), 5 * time.Minute, true},
		{"jitter on zero wait", 2, 0.5, 0, true},
		{"exhausted with jitter", 5, 0.2, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, ok := sched.Next(tt.failed, tt.jitter, nil)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestScheduleNextDefault(t *testing.T) {
	t.Parallel()

	for i, want := range retry.DefaultSchedule {
		got, ok := retry.DefaultSchedule.Next(i+1, 0, nil)
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	_, ok := retry.DefaultSchedule.Next(retry.DefaultSchedule.Attempts(), 0, nil)
	require.False(t, ok)
}

func TestScheduleNextJitter(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		sched  retry.Schedule
		jitter float64
		rng    *rand.Rand
		lo, hi time.Duration
	}{
		{"twenty percent", retry.Schedule{time.Hour}, 0.2, rand.New(rand.NewPCG(1, 2)), 48 * time.Minute, 72 * time.Minute},
		{"top-level source", retry.Schedule{time.Hour}, 0.2, nil, 48 * time.Minute, 72 * time.Minute},
		{"full jitter", retry.Schedule{time.Minute}, 1, rand.New(rand.NewPCG(3, 4)), 0, 2 * time.Minute},
		{"jitter above one is clamped", retry.Schedule{time.Minute}, 7, rand.New(rand.NewPCG(5, 6)), 0, 2 * time.Minute},
		{"huge wait saturates", retry.Schedule{math.MaxInt64}, 0.5, rand.New(rand.NewPCG(7, 8)), math.MaxInt64 / 2, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			seen := make(map[time.Duration]bool)
			for range 1000 {
				got, ok := tt.sched.Next(1, tt.jitter, tt.rng)
				require.True(t, ok)
				require.GreaterOrEqual(t, got, tt.lo)
				require.LessOrEqual(t, got, tt.hi)
				seen[got] = true
			}
			require.Greater(t, len(seen), 1, "every draw gave the same wait")
		})
	}
}

func TestScheduleNextSeeded(t *testing.T) {
	t.Parallel()

	draw := func() []time.Duration {
		rng := rand.New(rand.NewPCG(42, 42))
		out := make([]time.Duration, 0, len(retry.DefaultSchedule))
		for i := range retry.DefaultSchedule {
			d, _ := retry.DefaultSchedule.Next(i+1, 0.2, rng)
			out = append(out, d)
		}
		return out
	}
	first, second := draw(), draw()
	require.Equal(t, first, second, "the same seed gave different waits")
}

func FuzzParseSchedule(f *testing.F) {
	for _, seed := range []string{
		"5s,5m,30m,2h,5h,10h,14h,20h,24h", "1s, 2s, 5s", "0", "1.5s,250µs",
		"1h0m5s", "", ",", "-1s", "168h1s", "2d", "1e3s", ".5h",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sched, err := retry.ParseSchedule(in)
		if err != nil {
			require.Nil(t, sched)
			return
		}
		require.NotEmpty(t, sched)
		require.LessOrEqual(t, len(sched), 50)
		for _, d := range sched {
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.LessOrEqual(t, d, 7*24*time.Hour)
		}

		back, err := retry.ParseSchedule(sched.String())
		require.NoError(t, err)
		require.Equal(t, sched, back)
	})
}

// slicesRepeat returns a schedule of n copies of d.
func slicesRepeat(d time.Duration, n int) retry.Schedule {
	out := make(retry.Schedule, n)
	for i := range out {
		out[i] = d
	}
	return out
}
