// Command herald-bench measures Herald end to end on this machine: it runs
// herald serve, publishes through the API to a receiver on 127.0.0.1 that
// verifies every webhook, and prints throughput, latency, CPU per delivery,
// peak memory and lost or duplicated deliveries, beside what a plain HTTP
// client reaches against the same receiver.
//
//	make build
//	go run ./cmd/herald-bench -herald bin/herald -scenario all -json bench.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)

	stop()

	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "herald-bench:", err)
		os.Exit(1)
	}
}

// run parses args, runs the benchmark, prints its table on stdout and
// writes its JSON report when asked.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opts, jsonPath, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}

	report, err := bench.Run(ctx, opts)
	if report != nil && len(report.Runs) > 0 {
		if err := report.WriteTable(stdout); err != nil {
			return err
		}

		if jsonPath != "" {
			if err := report.WriteJSON(jsonPath); err != nil {
				return err
			}
		}
	}

	return err //nolint:wrapcheck // bench errors name the run
}

// parseFlags reads the options of the benchmark and the path of its JSON
// report from args.
func parseFlags(args []string, stderr io.Writer) (bench.Options, string, error) {
	opts := bench.Options{Stderr: stderr}

	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)

	scenario := fs.String("scenario", "burst", "scenarios to run, comma-separated: all, "+
		strings.Join(bench.ScenarioNames(), ", "))
	rate := fs.Float64("rate", 0, "publish rate in messages/s, 0 for as fast as possible "+
		"(default: the scenario's)")
	jsonPath := fs.String("json", "", "write the report as JSON to this file")

	fs.StringVar(&opts.Herald, "herald", "", "herald binary to run as herald serve, e.g. bin/herald")
	fs.StringVar(&opts.URL, "url", "", "URL of a Herald already running on this machine, instead of -herald")
	fs.StringVar(&opts.Key, "key", "", "admin API key of the Herald at -url")
	fs.StringVar(&opts.Database, "database", "", "HERALD_DATABASE_URL: postgres://... on this machine, "+
		"or sqlite://PATH (default: a fresh SQLite file per run)")
	fs.IntVar(&opts.Messages, "messages", 0, "messages per run, replacing the scenario's count (not scaled)")
	fs.IntVar(&opts.Concurrency, "concurrency", bench.DefaultConcurrency,
		"publishes in flight, and baseline requests in flight")
	fs.DurationVar(&opts.Drain, "drain", bench.DefaultDrain,
		"how long to wait after the last publish before counting deliveries as lost")
	fs.Float64Var(&opts.Scale, "scale", 1, "multiply message counts and durations, e.g. 0.01 for a smoke run")

	if err := fs.Parse(args); err != nil {
		return opts, "", err //nolint:wrapcheck // flag prints its own message
	}

	if fs.NArg() > 0 {
		return opts, "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	opts.Scenarios = strings.Split(*scenario, ",")

	fs.Visit(func(f *flag.Flag) {
		if f.Name == "rate" {
			opts.Rate = rate
		}
	})

	return opts, *jsonPath, nil
}
