package console

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExcerpt(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("a", excerptBytes-1) + "é" + "tail"

	for _, tt := range []struct {
		name string
		body []byte
		want string
	}{
		{"empty", nil, ""},
		{"short", []byte("ok"), "ok"},
		{"invalid UTF-8", []byte{'o', 0xff, 'k'}, "o\uFFFDk"},
		{"exactly the limit", []byte(strings.Repeat("b", excerptBytes)), strings.Repeat("b", excerptBytes)},
		{"cut", []byte(strings.Repeat("c", excerptBytes+1)), strings.Repeat("c", excerptBytes) + "…"},
		{"cut inside a character", []byte(long), strings.Repeat("a", excerptBytes-1) + "…"},
	} {
		require.Equal(t, tt.want, excerpt(tt.body), tt.name)
	}
}

func TestTook(t *testing.T) {
	t.Parallel()

	require.Equal(t, "0 ms", took(0))
	require.Equal(t, "42 ms", took(42*time.Millisecond+300*time.Microsecond))
	require.Equal(t, "9999 ms", took(9999*time.Millisecond))
	require.Equal(t, "12.5 s", took(12500*time.Millisecond))
}

func TestWhen(t *testing.T) {
	t.Parallel()

	require.Equal(t, "never", when(time.Time{}))

	paris := time.FixedZone("CET", 3600)
	require.Equal(t, "2026-05-01 08:30:05 UTC", when(time.Date(2026, 5, 1, 9, 30, 5, 0, paris)))
	require.Equal(t, "2026-05-01T08:30:05Z", iso(time.Date(2026, 5, 1, 9, 30, 5, 0, paris)))
}

func TestParseLocal(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"  ", time.Time{}, true},
		{"2026-05-01T09:30", time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC), true},
		{"2026-05-01T09:30:15", time.Date(2026, 5, 1, 9, 30, 15, 0, time.UTC), true},
		{"2026-05-01 09:30", time.Time{}, false},
		{"2026-05-01T09:30:15Z", time.Time{}, false},
		{"tomorrow", time.Time{}, false},
	} {
		got, ok := parseLocal(tt.in)
		require.Equal(t, tt.ok, ok, tt.in)
		require.True(t, tt.want.Equal(got), "%q: got %v", tt.in, got)
	}

	at := time.Date(2026, 5, 1, 9, 30, 15, 999, time.FixedZone("CET", 3600))
	require.Equal(t, "2026-05-01T08:30:15", localTime(at))
}

func TestCSRFTokenDependsOnTheSession(t *testing.T) {
	t.Parallel()

	a, b := csrfToken("session-a"), csrfToken("session-b")
	require.Len(t, a, 43)
	require.NotEqual(t, a, b)
	require.Equal(t, a, csrfToken("session-a"))
	require.NotContains(t, a, "session-a")
}
