package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"
)

// Report is what one invocation of the benchmark measured.
type Report struct {
	StartedAt time.Time `json:"started_at"`
	GoVersion string    `json:"go_version"`
	CPUs      int       `json:"cpus"`

	// Herald is the binary the benchmark ran, or the URL of the Herald it
	// was pointed at.
	Herald string `json:"herald"`

	Concurrency int     `json:"concurrency"`
	Scale       float64 `json:"scale"`

	Runs []Result `json:"runs"`

	// Notes says what could not be measured, and why.
	Notes []string `json:"notes,omitempty"`
}

// Result is what one run measured. Rates are per second; CPU figures are
// seconds of CPU per 1,000 deliveries. A figure that could not be measured
// is null.
type Result struct {
	Name     string `json:"name"`
	Scenario string `json:"scenario"`

	// Database is "postgres", "sqlite" or "unknown" for a Herald the
	// benchmark did not start.
	Database string `json:"database"`

	// Endpoints answer at once; HangingEndpoints hold every request until
	// Herald gives up. Only the former count as deliveries.
	Endpoints        int     `json:"endpoints"`
	HangingEndpoints int     `json:"hanging_endpoints"`
	TargetRate       float64 `json:"target_rate"`

	Messages         int     `json:"messages"`
	Published        int     `json:"published"`
	PublishErrors    int     `json:"publish_errors"`
	PublishPerSecond float64 `json:"publish_per_second"`

	// Expected is Published times Endpoints.
	Expected  int `json:"expected_deliveries"`
	Delivered int `json:"delivered"`

	// DeliveriesPerSecond is Delivered over the time from the first publish
	// to the last arrival, ElapsedSeconds.
	DeliveriesPerSecond float64 `json:"deliveries_per_second"`
	ElapsedSeconds      float64 `json:"elapsed_seconds"`
	Latency             Latency `json:"latency"`

	// BaselinePerSecond is what a plain http.Client does against the same
	// receiver; HeraldVsBaseline is DeliveriesPerSecond over it.
	BaselinePerSecond float64 `json:"baseline_per_second"`
	HeraldVsBaseline  float64 `json:"herald_vs_baseline"`

	HeraldCPUPer1000   *float64 `json:"herald_cpu_per_1000"`
	DatabaseCPUPer1000 *float64 `json:"database_cpu_per_1000"`
	HeraldPeakRSSBytes *int64   `json:"herald_peak_rss_bytes"`

	// BenchCPUPer1000 is the benchmark's own CPU: its publishers and
	// receiver share the machine with Herald.
	BenchCPUPer1000 *float64 `json:"bench_cpu_per_1000"`

	Lost           int `json:"lost"`
	Duplicated     int `json:"duplicated"`
	Unknown        int `json:"unknown"`
	VerifyFailures int `json:"verify_failures"`
	HungRequests   int `json:"hung_requests"`

	Notes []string `json:"notes,omitempty"`
}

// WriteJSON writes the report as indented JSON to the file path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}

	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write report: %w", err)
	}

	return nil
}

// row is one line of the table: a label and how to show each run's value.
type row struct {
	label string
	value func(r Result) string
}

// rows are the lines of the table, one per figure.
var rows = []row{
	{"database", func(r Result) string { return r.Database }},
	{"endpoints (+hanging)", endpoints},
	{"target rate/s", func(r Result) string { return rate(r.TargetRate) }},
	{"published", func(r Result) string { return strconv.Itoa(r.Published) }},
	{"publish errors", func(r Result) string { return strconv.Itoa(r.PublishErrors) }},
	{"publish/s", func(r Result) string { return fmt.Sprintf("%.0f", r.PublishPerSecond) }},
	{"delivered", func(r Result) string { return fmt.Sprintf("%d/%d", r.Delivered, r.Expected) }},
	{"deliveries/s", func(r Result) string { return fmt.Sprintf("%.0f", r.DeliveriesPerSecond) }},
	{"baseline req/s", func(r Result) string { return fmt.Sprintf("%.0f", r.BaselinePerSecond) }},
	{"herald/baseline", func(r Result) string { return fmt.Sprintf("%.1f%%", 100*r.HeraldVsBaseline) }},
	{"latency p50", func(r Result) string { return ms(r.Latency.P50) }},
	{"latency p90", func(r Result) string { return ms(r.Latency.P90) }},
	{"latency p99", func(r Result) string { return ms(r.Latency.P99) }},
	{"herald CPU s/1k", func(r Result) string { return seconds(r.HeraldCPUPer1000) }},
	{"database CPU s/1k", func(r Result) string { return seconds(r.DatabaseCPUPer1000) }},
	{"bench tool CPU s/1k", func(r Result) string { return seconds(r.BenchCPUPer1000) }},
	{"herald peak RSS", func(r Result) string { return mib(r.HeraldPeakRSSBytes) }},
	{"lost", func(r Result) string { return strconv.Itoa(r.Lost) }},
	{"duplicated", func(r Result) string { return strconv.Itoa(r.Duplicated) }},
	{"verify failures", func(r Result) string { return strconv.Itoa(r.VerifyFailures) }},
	{"hung requests", func(r Result) string { return strconv.Itoa(r.HungRequests) }},
}

// WriteTable writes the report as a table, one column per run, then its
// notes.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)

	fmt.Fprint(tw, "\t")

	for _, run := range r.Runs {
		fmt.Fprintf(tw, "%s\t", run.Name)
	}

	fmt.Fprintln(tw)

	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t", row.label)

		for _, run := range r.Runs {
			fmt.Fprintf(tw, "%s\t", row.value(run))
		}

		fmt.Fprintln(tw)
	}

	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}

	return r.writeNotes(w)
}

// writeNotes writes the notes of the report and of each run.
func (r *Report) writeNotes(w io.Writer) error {
	var err error

	note := func(prefix, text string) {
		if err == nil {
			_, err = fmt.Fprintf(w, "note: %s%s\n", prefix, text)
		}
	}

	for _, n := range r.Notes {
		note("", n)
	}

	for _, run := range r.Runs {
		for _, n := range run.Notes {
			note(run.Name+": ", n)
		}
	}

	if err != nil {
		return fmt.Errorf("write notes: %w", err)
	}

	return nil
}

func endpoints(r Result) string {
	if r.HangingEndpoints == 0 {
		return strconv.Itoa(r.Endpoints)
	}

	return fmt.Sprintf("%d+%d", r.Endpoints, r.HangingEndpoints)
}

func rate(perSecond float64) string {
	if perSecond == 0 {
		return "max"
	}

	return fmt.Sprintf("%.0f", perSecond)
}

func ms(v float64) string {
	return fmt.Sprintf("%.1fms", v)
}

func seconds(v *float64) string {
	if v == nil {
		return "n/a"
	}

	return fmt.Sprintf("%.3f", *v)
}

func mib(v *int64) string {
	if v == nil {
		return "n/a"
	}

	return fmt.Sprintf("%.0f MiB", float64(*v)/(1<<20))
}
