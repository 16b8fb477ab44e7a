package cli_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/cli"
	"github.com/heraldhq/herald/internal/testdb"
)

// BenchmarkDeliver publishes b.N messages to one endpoint through the real
// API and worker (herald serve) and waits until the receiver has them all.
// It reports deliveries per second and publish-to-receive latency: "burst"
// publishes from 16 senders as fast as the API takes them, "paced" from one
// sender every 10ms, for the latency of a lightly loaded Herald. Run it with
// make bench; docs/benchmarks.md keeps the figures.
func BenchmarkDeliver(b *testing.B) {
	backends := map[string]func(b *testing.B) string{
		"sqlite": func(b *testing.B) string {
			b.Helper()
			return "sqlite://" + b.TempDir() + "/herald.db"
		},
	}
	if os.Getenv(testdb.EnvURL) != "" {
		backends["postgres"] = func(b *testing.B) string {
			b.Helper()
			return testdb.Empty(b).URL
		}
	}

	for _, name := range slices.Sorted(maps.Keys(backends)) {
		b.Run(name+"/burst", func(b *testing.B) { benchDeliver(b, backends[name](b), 16, 0) })
		b.Run(name+"/paced", func(b *testing.B) { benchDeliver(b, backends[name](b), 1, 10*time.Millisecond) })
	}
}

// benchReceiver records when each webhook arrives.
type benchReceiver struct {
	mu      sync.Mutex
	arrived map[string]time.Time
	all     chan struct{}
	want    int
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if _, seen := r.arrived[req.Header.Get("Webhook-Id")]; !seen {
		r.arrived[req.Header.Get("Webhook-Id")] = time.Now()
		if len(r.arrived) == r.want {
			close(r.all)
		}
	}
	r.mu.Unlock()

	w.WriteHeader(http.StatusNoContent)
}

func benchDeliver(b *testing.B, url string, senders int, pause time.Duration) {
	b.Helper()

	const key = "a-benchmark-key-0123456789"

	recv := &benchReceiver{arrived: map[string]time.Time{}, all: make(chan struct{}), want: b.N}
	srv := httptest.NewServer(recv)
	b.Cleanup(srv.Close)

	var (
		stdout      = &buffer{}
		ctx, cancel = context.WithCancel(context.Background())
		done        = make(chan error, 1)
		environ     = []string{
			"HERALD_DATABASE_URL=" + url, "HERALD_ADDR=127.0.0.1:0", "HERALD_API_KEY=" + key,
			"HERALD_ALLOWED_NETWORKS=127.0.0.0/8", "HERALD_LOG_LEVEL=warn",
		}
	)

	go func() { done <- cli.Run(ctx, []string{"serve"}, environ, stdout, &buffer{}) }()
	b.Cleanup(func() {
		cancel()
		<-done //nolint:errcheck // the command's error is not the benchmark's
	})

	base := awaitURL(b, stdout)
	c := benchClient(b, base, key)

	if _, err := c.PutTenantWithResponse(ctx, "bench", client.TenantInput{}); err != nil {
		b.Fatal(err)
	}

	if _, err := c.CreateEndpointWithResponse(ctx, "bench", client.EndpointInput{Url: srv.URL}); err != nil {
		b.Fatal(err)
	}

	published := make(map[string]time.Time, b.N)

	var mu sync.Mutex

	b.ResetTimer()

	start := time.Now()
	publishAll(b, c, b.N, senders, pause, func(id string, at time.Time) {
		mu.Lock()
		published[id] = at
		mu.Unlock()
	})

	select {
	case <-recv.all:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d deliveries arrived", len(recv.arrived), b.N)
	}

	elapsed := time.Since(start)

	b.StopTimer()
	reportLatency(b, published, recv.arrived, elapsed)
}

func publishAll(
	b *testing.B, c *client.ClientWithResponses, n, senders int, pause time.Duration,
	record func(string, time.Time),
) {
	b.Helper()

	var (
		wg   sync.WaitGroup
		next = make(chan int)
	)

	for range senders {
		wg.Go(func() {
			for i := range next {
				at := time.Now()

				res, err := c.PublishMessageWithResponse(context.Background(), "bench", client.MessageInput{
					EventType: "bench.tick",
					Payload:   []byte(fmt.Sprintf(`{"n":%d}`, i)),
				})
				if err != nil || res.JSON202 == nil {
					b.Errorf("publish %d: %v", i, err)
					continue
				}

				record(res.JSON202.Id, at)
				time.Sleep(pause)
			}
		})
	}

	for i := range n {
		next <- i
	}

	close(next)
	wg.Wait()
}

func reportLatency(b *testing.B, published, arrived map[string]time.Time, elapsed time.Duration) {
	b.Helper()

	latencies := make([]time.Duration, 0, len(arrived))
	for id, at := range arrived {
		latencies = append(latencies, at.Sub(published[id]))
	}

	slices.Sort(latencies)

	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}

	b.ReportMetric(float64(len(arrived))/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

func awaitURL(b *testing.B, stdout *buffer) string {
	b.Helper()

	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningRe.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}

		time.Sleep(10 * time.Millisecond)
	}

	b.Fatal("herald serve did not start")

	return ""
}

func benchClient(b *testing.B, base, key string) *client.ClientWithResponses {
	b.Helper()

	c, err := client.NewClientWithResponses(base, client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	if err != nil {
		b.Fatal(err)
	}

	return c
}
