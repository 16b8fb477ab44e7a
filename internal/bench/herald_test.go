package bench

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBannerWriterFindsTheURL(t *testing.T) {
	t.Parallel()

	const out = "Herald API listening on http://127.0.0.1:41234\nHerald's API key, shown once:\n"

	tests := map[string][]string{
		"one write":        {out},
		"a byte at a time": strings.Split(out, ""),
		"split in the URL": {"Herald API listening on http://127.0", ".0.1:41234\n"},
		"after other lines": {
			"starting\n" + strings.Repeat("x", 2*maxLine) + "\n", out,
		},
	}

	for name, writes := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			w := &bannerWriter{found: make(chan string, 1)}
			for _, s := range writes {
				n, err := w.Write([]byte(s))
				require.NoError(t, err)
				require.Len(t, s, n)
			}

			require.Equal(t, "http://127.0.0.1:41234", <-w.found)
		})
	}
}

func TestBannerWriterIgnoresOtherLines(t *testing.T) {
	t.Parallel()

	w := &bannerWriter{found: make(chan string, 1)}
	for _, s := range []string{
		"level=WARN msg=\"Herald API listening on http://127.0.0.1:1\"\n",
		"Herald API listening on http://127.0.0.1:2", // no newline yet
	} {
		_, err := w.Write([]byte(s))
		require.NoError(t, err)
	}

	require.Empty(t, w.found, "a line is whole only at its newline, and must start with the banner")
}

func TestHeraldEnvDropsInheritedHeraldVariables(t *testing.T) {
	t.Parallel()

	env := heraldEnv(
		[]string{"PATH=/usr/bin", "HERALD_WORKERS=3", "HOME=/root"},
		heraldParams{database: "sqlite:///tmp/h.db", env: []string{"HERALD_DELIVERY_TIMEOUT=2s"}},
		"bench_key",
	)

	require.Equal(t, []string{
		"PATH=/usr/bin", "HOME=/root",
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_API_KEY=bench_key",
		"HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
		"HERALD_LOG_LEVEL=warn",
		"HERALD_DATABASE_URL=sqlite:///tmp/h.db",
		"HERALD_DELIVERY_TIMEOUT=2s",
	}, env)
}
