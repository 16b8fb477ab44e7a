package retry_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/retry"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()

	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"one second", "1", time.Second, true},
		{"leading zeros", "0030", 30 * time.Second, true},
		{"zero clamped up", "0", retry.MinRetryAfter, true},
		{"just under max", "86399", retry.MaxRetryAfter - time.Second, true},
		{"max", "86400", retry.MaxRetryAfter, true},
		{"over max", "86401", retry.MaxRetryAfter, true},
		{"huge", "9223372036854775807", retry.MaxRetryAfter, true},
		{"overflows int64", "99999999999999999999999999999999", retry.MaxRetryAfter, true},
		{"whitespace", " \t 60 \r\n", time.Minute, true},

		{"date in future", "Wed, 21 Oct 2015 07:30:00 GMT", 2 * time.Minute, true},
		{"date now", "Wed, 21 Oct 2015 07:28:00 GMT", retry.MinRetryAfter, true},
		{"date in past", "Wed, 21 Oct 2015 07:00:00 GMT", retry.MinRetryAfter, true},
		{"date far past", "Thu, 01 Jan 1970 00:00:00 GMT", retry.MinRetryAfter, true},
		{"date far future", "Fri, 31 Dec 9999 23:59:59 GMT", retry.MaxRetryAfter, true},
		{"RFC 850", "Wednesday, 21-Oct-15 07:33:00 GMT", 5 * time.Minute, true},
		{"ANSI C", "Wed Oct 21 08:28:00 2015", time.Hour, true},
		{"date with whitespace", "  Wed, 21 Oct 2015 07:29:00 GMT ", time.Minute, true},

		{"empty", "", 0, false},
		{"blank", "   ", 0, false},
		{"garbage", "soon", 0, false},
		{"negative", "-5", 0, false},
		{"plus sign", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"exponent", "1e3", 0, false},
		{"duration", "30s", 0, false},
		{"inner space", "1 20", 0, false},
		{"unicode digits", "١٢٠", 0, false},
		{"bad date", "Wed, 32 Oct 2015 07:28:00 GMT", 0, false},
		{"ISO date", "2015-10-21T07:30:00Z", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, ok := retry.RetryAfter(tt.value, now)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()

	now := time.Now()
	value := now.Add(90 * time.Minute).UTC().Format(http.TimeFormat)

	got, ok := retry.RetryAfter(value, now)
	require.True(t, ok)
	require.InDelta(t, 90*time.Minute, got, float64(time.Second))
}

func FuzzRetryAfter(f *testing.F) {
	for _, seed := range []string{
		"120", "0", "-1", "99999999999999999999", " 7 ", "1.5", "",
		"Wed, 21 Oct 2015 07:28:00 GMT", "Wednesday, 21-Oct-15 07:28:00 GMT",
		"Wed Oct 21 07:28:00 2015", "Fri, 31 Dec 9999 23:59:59 GMT",
	} {
		f.Add(seed)
	}
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, value string) {
		got, ok := retry.RetryAfter(value, now)
		if !ok {
			require.Zero(t, got)
			return
		}
		require.GreaterOrEqual(t, got, retry.MinRetryAfter)
		require.LessOrEqual(t, got, retry.MaxRetryAfter)
	})
}
