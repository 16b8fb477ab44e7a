// Package bench measures Herald end to end on one machine. It runs herald
// serve (or uses a Herald already running), serves the webhooks on
// 127.0.0.1 from a receiver that verifies every signature, publishes through
// the API, and reports throughput, publish-to-receive latency, CPU per
// delivery, peak memory, lost and duplicated deliveries, and what a plain
// HTTP client reaches against the same receiver.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Options configures [Run].
type Options struct {
	// Herald is the path of the herald binary that Run starts as herald
	// serve, afresh for each run. Either Herald or URL is required.
	Herald string

	// URL and Key point Run at a Herald already running instead, on this
	// machine. Its CPU and memory cannot be read then, nor its database's.
	URL string
	Key string

	// Database is HERALD_DATABASE_URL of the Herald that Run starts: a
	// postgres:// URL of a server on this machine, or sqlite://PATH. Empty
	// means a fresh SQLite file in a temporary directory for each run.
	Database string

	// Scenarios names the scenarios to run (see [ScenarioNames]), or "all".
	// Defaults to burst.
	Scenarios []string

	// Messages replaces each scenario's message count when positive; it is
	// not scaled.
	Messages int

	// Rate replaces each scenario's publish rate when not nil, in messages
	// per second; 0 publishes as fast as possible.
	Rate *float64

	// Concurrency is how many publishes are in flight at most, and how many
	// requests the baseline keeps in flight. Defaults to 16.
	Concurrency int

	// Drain is how long Run waits after the last publish for deliveries to
	// arrive; those that have not arrived then are lost. Defaults to 2m.
	Drain time.Duration

	// Scale multiplies each scenario's message count, and so its duration,
	// for smoke runs. Defaults to 1.
	Scale float64

	// Stderr receives progress lines and Herald's own log, one write at a
	// time. Defaults to io.Discard.
	Stderr io.Writer
}

// Defaults of [Options].
const (
	DefaultConcurrency = 128
	DefaultDrain       = 2 * time.Minute
)

// Errors of [Options] that [Run] refuses.
var (
	ErrNoHerald   = errors.New("bench: set the herald binary or the URL of a running Herald")
	ErrBadOptions = errors.New("bench: invalid options")
)

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if len(o.Scenarios) == 0 {
		o.Scenarios = []string{scenarios[0].name}
	}

	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}

	if o.Drain == 0 {
		o.Drain = DefaultDrain
	}

	if o.Scale == 0 {
		o.Scale = 1
	}

	if o.Stderr == nil {
		o.Stderr = io.Discard
	}

	// Herald's log and the progress lines go to Stderr from two goroutines.
	o.Stderr = &lockedWriter{w: o.Stderr}

	return o
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p to the underlying writer, alone.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.Write(p) //nolint:wrapcheck // a writer passes errors on as they are
}

// validate checks o, once defaults are set.
func (o Options) validate() error {
	switch {
	case o.Concurrency < 1 || o.Scale <= 0 || o.Drain <= 0 || o.Messages < 0:
		return fmt.Errorf("%w: concurrency, scale and drain must be positive", ErrBadOptions)
	case o.Rate != nil && *o.Rate < 0:
		return fmt.Errorf("%w: rate must not be negative", ErrBadOptions)
	}

	return o.validateTarget()
}

// validateTarget checks that o names one Herald on this machine.
func (o Options) validateTarget() error {
	switch {
	case o.Herald == "" && o.URL == "":
		return ErrNoHerald
	case o.Herald != "" && o.URL != "":
		return fmt.Errorf("%w: a herald binary and a URL both given", ErrBadOptions)
	case o.URL != "" && (o.Key == "" || o.Database != ""):
		return fmt.Errorf("%w: a URL needs its API key, and no database", ErrBadOptions)
	}

	if o.URL != "" {
		if err := checkLoopback(o.URL); err != nil {
			return fmt.Errorf("%w: url: %w", ErrBadOptions, err)
		}
	}

	if o.Database != "" && !strings.HasPrefix(o.Database, "sqlite://") {
		if err := checkLoopback(o.Database); err != nil {
			return fmt.Errorf("%w: database: %w", ErrBadOptions, err)
		}
	}

	return nil
}

// Run runs the scenarios of opts one after another and reports what each
// measured. It returns the report so far with the error of a run that
// could not be made.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}

	specs, err := plan(opts.Scenarios, opts)
	if err != nil {
		return nil, err
	}

	tmp, err := os.MkdirTemp("", "herald-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	report := opts.newReport()
	specs, skipped := opts.runnable(specs)
	report.Notes = append(report.Notes, skipped...)

	for _, s := range specs {
		res, err := runSpec(ctx, opts, s, tmp)
		if err != nil {
			return report, fmt.Errorf("%s: %w", s.name, err)
		}

		report.Runs = append(report.Runs, res)
	}

	return report, nil
}

// runnable returns the specs that can run, and a note for each left out:
// pointed at a running Herald, a run that needs a Herald of its own
// cannot.
func (o Options) runnable(specs []spec) (keep []spec, notes []string) {
	for _, s := range specs {
		if o.URL != "" && (s.sqlite || len(s.env) > 0) {
			notes = append(notes, s.name+" skipped: it needs a Herald the benchmark starts (-herald)")
			continue
		}

		keep = append(keep, s)
	}

	return keep, notes
}

// newReport returns a report of no runs yet.
func (o Options) newReport() *Report {
	r := &Report{
		StartedAt:   time.Now().UTC(),
		GoVersion:   runtime.Version(),
		CPUs:        runtime.NumCPU(),
		Herald:      o.Herald,
		Concurrency: o.Concurrency,
		Scale:       o.Scale,
	}

	if o.URL != "" {
		r.Herald = o.URL
		r.Notes = append(r.Notes, "Herald was already running: its CPU and peak RSS, "+
			"and its database's CPU, are not measured")
	}

	if o.Database != "" && !strings.HasPrefix(o.Database, "sqlite://") {
		r.Notes = append(r.Notes, "database CPU is that of every postgres process "+
			"on this machine, other databases' work included")
	}

	return r
}

// progress writes one line about the run under way.
func (o Options) progressf(s spec, format string, args ...any) {
	fmt.Fprintf(o.Stderr, "herald-bench: %s: %s\n", s.name, fmt.Sprintf(format, args...))
}
