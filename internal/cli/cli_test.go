package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/cli"
	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/testdb"
)

// buffer is an io.Writer safe to read while a command writes to it.
type buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

// running is a command started in the background.
type running struct {
	stdout, stderr *buffer
	cancel         context.CancelFunc
	done           chan error
}

// start runs herald with args and the given HERALD_* variables until the
// test stops it or ends.
func start(t *testing.T, environ []string, args ...string) *running {
	t.Helper()

	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &buffer{}, stderr: &buffer{}, cancel: cancel, done: make(chan error, 1)}

	go func() { r.done <- cli.Run(ctx, args, environ, r.stdout, r.stderr) }()

	t.Cleanup(func() {
		cancel()
		<-r.done //nolint:errcheck // the error was checked, or the test failed
	})

	return r
}

// stop cancels the command as a signal would and returns its error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()

	select {
	case err := <-r.done:
		r.done <- err // for the cleanup

		return err
	case <-time.After(20 * time.Second):
		t.Fatal("the command did not stop within 20s")
		return nil
	}
}

// await returns the first submatch of re in the command's stdout, waiting
// for it to appear; it fails the test if the command ends first.
func (r *running) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(r.stdout.String()); m != nil {
			return m[1]
		}

		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("the command ended with %v before printing %s; stderr:\n%s", err, re, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}

	t.Fatalf("no %s in stdout within 20s; stdout:\n%s\nstderr:\n%s", re, r.stdout, r.stderr)

	return ""
}

var (
	listeningRe = regexp.MustCompile(`listening on (http://\S+)`)
	keyRe       = regexp.MustCompile(`(hk_\S+)`)
)

// environ returns the HERALD_* variables of a process on the database at
// url, followed by more, which win over them.
func environ(url string, more ...string) []string {
	return append([]string{
		"HERALD_DATABASE_URL=" + url,
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_SHUTDOWN_TIMEOUT=5s",
		"PATH=/usr/bin", // not Herald's: ignored
	}, more...)
}

func newClient(t *testing.T, url, key string) *client.ClientWithResponses {
	t.Helper()

	c, err := client.NewClientWithResponses(url, client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	require.NoError(t, err)

	return c
}

func TestServeMakesAKeyOnceAndServesTheAPI(t *testing.T) {
	t.Parallel()

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		first := start(t, environ(db.URL), "serve")
		url := first.await(t, listeningRe)
		key := first.await(t, keyRe)

		c := newClient(t, url, key)
		put, err := c.PutTenantWithResponse(t.Context(), "acme", client.TenantInput{})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, put.StatusCode(), string(put.Body))

		created, err := c.CreateEndpointWithResponse(t.Context(), "acme",
			client.EndpointInput{Url: "https://example.com/webhooks"})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
		require.NoError(t, first.stop(t))
		require.NotContains(t, first.stderr.String(), key, "the key must not reach the log")

		// A restart keeps everything and prints no new key.
		second := start(t, environ(db.URL), "serve")
		url = second.await(t, listeningRe)
		require.NotContains(t, second.stdout.String(), "hk_")

		got, err := newClient(t, url, key).GetEndpointWithResponse(t.Context(), "acme", created.JSON201.Id)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, got.StatusCode())
		require.Equal(t, "https://example.com/webhooks", got.JSON200.Url)
		require.NoError(t, second.stop(t))
	})
}

// The api and worker tests below run on PostgreSQL only: herald runs them
// apart on PostgreSQL alone, since a SQLite file admits one process, herald
// serve (see TestAPIAndWorkerAloneRefuseSQLite).

func TestAPIWithConfiguredKey(t *testing.T) {
	t.Parallel()

	const key = "a-configured-key-of-some-length"

	r := start(t, environ(testdb.Empty(t).URL, "HERALD_API_KEY="+key, "HERALD_LOG_FORMAT=json"), "api")
	url := r.await(t, listeningRe)

	res, err := newClient(t, url, key).ListTenantsWithResponse(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())

	res, err = newClient(t, url, "a-wrong-key-of-some-length").ListTenantsWithResponse(t.Context(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())
	require.NoError(t, r.stop(t))
	require.NotContains(t, r.stderr.String(), key)
	require.Contains(t, r.stderr.String(), `"api_key":"[set]"`)
}

func TestAPIWithoutAnyKeyRefusesToStart(t *testing.T) {
	t.Parallel()

	err := cli.Run(t.Context(), []string{"api"}, environ(testdb.Empty(t).URL), &buffer{}, &buffer{})
	require.ErrorContains(t, err, "no API key: set HERALD_API_KEY")
}

func TestWorkerStartsAndStops(t *testing.T) {
	t.Parallel()

	r := start(t, environ(testdb.Empty(t).URL, "HERALD_LOG_LEVEL=debug"), "worker")

	require.Eventually(t, func() bool {
		return strings.Contains(r.stderr.String(), "River client started")
	}, 20*time.Second, 20*time.Millisecond)
	require.NoError(t, r.stop(t))
}

// TestMigrate runs the migrate commands on each backend, and checks that
// SQLite and PostgreSQL print the same versions at every step.
func TestMigrate(t *testing.T) {
	t.Parallel()

	var (
		mu          sync.Mutex
		transcripts = map[string][]string{}
	)

	// The subtests run in parallel and are done when the cleanup runs.
	t.Cleanup(func() {
		if t.Failed() || len(transcripts) < 2 {
			return // a subtest failed, or PostgreSQL is not set up
		}

		require.Equal(t, transcripts["postgres"], transcripts["sqlite"],
			"SQLite and PostgreSQL print different versions")
	})

	testdb.Each(t, func(t *testing.T, db testdb.Backend) { //nolint:thelper // a subtest, not a helper
		var printed []string

		run := func(args ...string) string {
			t.Helper()

			var stdout buffer
			require.NoError(t, cli.Run(t.Context(), args, environ(db.URL), &stdout, &buffer{}))
			printed = append(printed, stdout.String())

			return stdout.String()
		}

		require.Equal(t, "herald schema version 0\nriver schema version 0\n", run("migrate", "version"))
		latest := schema.Latest()
		require.Regexp(t, fmt.Sprintf(`^herald schema version %d\nriver schema version [1-9]\d*\n$`, latest),
			run("migrate", "up"))
		require.Equal(t, printed[1], run("migrate", "version"))
		require.Regexp(t, fmt.Sprintf(`^herald schema version %d\nriver schema version [1-9]`, latest-1),
			run("migrate", "down"))
		require.Regexp(t, fmt.Sprintf(`^herald schema version %d\n`, latest), run("migrate", "up"))
		require.Equal(t, "herald schema version 0\nriver schema version 0\n", run("migrate", "down", "--all"))

		mu.Lock()
		transcripts[db.Name] = printed
		mu.Unlock()
	})
}

func TestInvalidConfiguration(t *testing.T) {
	t.Parallel()

	for _, tt := range []struct {
		name    string
		environ []string
		want    string
	}{
		{"bad scheme", []string{"HERALD_DATABASE_URL=mysql://x"}, "HERALD_DATABASE_URL: scheme \"mysql\""},
		{"bad format", []string{"HERALD_DATABASE_URL=postgres://x", "HERALD_LOG_FORMAT=xml"}, "HERALD_LOG_FORMAT"},
		{"typo", []string{"HERALD_DATABASE_URL=postgres://x", "HERALD_ADRESS=:1"}, "HERALD_ADRESS is not a known variable"}, //nolint:misspell // the typo is the test
		{"unreachable database", []string{"HERALD_DATABASE_URL=postgres://u:hunter2@127.0.0.1:1/x"}, "connect to database 127.0.0.1:1/x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := cli.Run(t.Context(), []string{"serve"}, tt.environ, &buffer{}, &buffer{})
			require.ErrorContains(t, err, tt.want)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()

	var stdout buffer
	require.NoError(t, cli.Run(t.Context(), []string{"version"}, nil, &stdout, &buffer{}))
	require.Regexp(t, `^herald \S+\n$`, stdout.String())

	stdout = buffer{}
	require.NoError(t, cli.Run(t.Context(), []string{"--help"}, nil, &stdout, &buffer{}))
	require.Contains(t, stdout.String(), "HERALD_DATABASE_URL")
	require.Contains(t, stdout.String(), "serve")
}

func TestAPIAndWorkerAloneRefuseSQLite(t *testing.T) {
	t.Parallel()

	for _, command := range []string{"api", "worker"} {
		environ := []string{"HERALD_DATABASE_URL=" + testdb.SQLiteURL(t), "HERALD_API_KEY=a-key-of-some-length-here"}
		err := cli.Run(t.Context(), []string{command}, environ, &buffer{}, &buffer{})
		require.ErrorContains(t, err, "a SQLite database runs in one process: use herald serve")
	}
}

// TestStopsDespiteUnusedConnections checks that a connection which never
// sends a request, as browsers open ahead of need, does not hold the API
// past its shutdown timeout: net/http would wait 5s for it.
func TestStopsDespiteUnusedConnections(t *testing.T) {
	t.Parallel()

	const key = "a-configured-key-of-some-length"

	r := start(t, environ(testdb.Empty(t).URL, "HERALD_API_KEY="+key, "HERALD_SHUTDOWN_TIMEOUT=1s"), "api")
	url := r.await(t, listeningRe)

	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", strings.TrimPrefix(url, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	require.NoError(t, r.stop(t))
}
