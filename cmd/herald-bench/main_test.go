package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/bench"
)

// TestBurstOnSQLite builds the real herald binary and runs a burst of 200
// messages through it on a SQLite file: every message must arrive once,
// verified, and the report must say so.
func TestBurstOnSQLite(t *testing.T) {
	t.Parallel()

	if testing.Short() {
		t.Skip("builds and runs herald")
	}

	var (
		dir    = t.TempDir()
		bin    = filepath.Join(dir, "herald")
		report = filepath.Join(dir, "report.json")
	)

	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin,
		"github.com/heraldhq/herald/cmd/herald").CombinedOutput()
	require.NoError(t, err, string(out))

	var stdout, stderr bytes.Buffer
	err = run(t.Context(), []string{
		"-herald", bin, "-scenario", "burst", "-scale", "0.01", "-drain", "20s", "-json", report,
	}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	require.Contains(t, stdout.String(), "deliveries/s")

	b, err := os.ReadFile(report)
	require.NoError(t, err)

	var got bench.Report
	require.NoError(t, json.Unmarshal(b, &got))
	require.Len(t, got.Runs, 1)

	r := got.Runs[0]
	require.Equal(t, "burst", r.Name)
	require.Equal(t, "sqlite", r.Database)
	require.Equal(t, 200, r.Messages)
	require.Equal(t, 200, r.Published)
	require.Equal(t, 200, r.Expected)
	require.Equal(t, 200, r.Delivered)
	require.Zero(t, r.PublishErrors)
	require.Zero(t, r.Lost)
	require.Zero(t, r.Duplicated)
	require.Zero(t, r.Unknown)
	require.Zero(t, r.VerifyFailures)
	require.Empty(t, r.Notes, "herald stopped cleanly and nothing went wrong")

	require.Positive(t, r.DeliveriesPerSecond)
	require.Positive(t, r.BaselinePerSecond)
	require.Positive(t, r.Latency.P50)
	require.LessOrEqual(t, r.Latency.P50, r.Latency.P99)
	require.NotNil(t, r.HeraldCPUPer1000)
	require.NotNil(t, r.DatabaseCPUPer1000)
	require.Zero(t, *r.DatabaseCPUPer1000, "SQLite runs inside Herald")
	require.NotNil(t, r.BenchCPUPer1000)
	require.NotNil(t, r.HeraldPeakRSSBytes)
	require.Greater(t, *r.HeraldPeakRSSBytes, int64(1<<20))
}

func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()

	tests := map[string]struct {
		args []string
		want string
	}{
		"no herald":        {nil, bench.ErrNoHerald.Error()},
		"unknown scenario": {[]string{"-herald", "x", "-scenario", "soak"}, `bench: unknown scenario "soak"`},
		"remote url":       {[]string{"-url", "http://10.0.0.1:8080", "-key", "k"}, "only to loopback"},
		"remote database": {
			[]string{"-herald", "x", "-database", "postgres://u@db.example.com/h"}, "only to loopback",
		},
		"url without key": {[]string{"-url", "http://127.0.0.1:8080"}, "needs its API key"},
		"argument":        {[]string{"-herald", "x", "burst"}, `unexpected argument "burst"`},
		"bad flag":        {[]string{"-rate", "fast"}, "invalid value"},
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, &stdout, &stderr)
			require.ErrorContains(t, err, tt.want)
			require.Empty(t, stdout.String())
		})
	}
}
