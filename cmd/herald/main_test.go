package main_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/testdb"
)

// build compiles a command of this module into a temporary directory.
func build(t *testing.T, pkg string) string {
	t.Helper()

	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", bin, pkg).CombinedOutput()
	require.NoError(t, err, string(out))

	return bin
}

// TestBinaryServesAndStopsOnSIGTERM runs the real binary as an operator
// would: it must print its URL and a first key, answer the API, and exit 0
// on SIGTERM.
func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()

	db := testdb.Empty(t)
	bin := build(t, "github.com/heraldhq/herald/cmd/herald")

	cmd := exec.CommandContext(t.Context(), bin, "serve")
	cmd.Env = []string{"HERALD_DATABASE_URL=" + db.URL, "HERALD_ADDR=127.0.0.1:0"}
	cmd.Stderr = os.Stderr

	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	url, key := readBanner(t, stdout)

	c, err := client.NewClientWithResponses(url, client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	require.NoError(t, err)

	res, err := c.PutTenantWithResponse(t.Context(), "acme", client.TenantInput{})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode())

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))

	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	select {
	case err := <-done:
		require.NoError(t, err, "herald serve must exit 0 on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("herald serve did not stop within 30s of SIGTERM")
	}
}

// TestBinaryRefusesBadConfiguration checks the exit code and the message.
func TestBinaryRefusesBadConfiguration(t *testing.T) {
	t.Parallel()

	bin := build(t, "github.com/heraldhq/herald/cmd/herald")

	cmd := exec.CommandContext(t.Context(), bin, "serve")
	cmd.Env = []string{"HERALD_DATABASE_URL=postgres://x", "HERALD_SHUTDOWN_TIMEOUT=soon"}
	out, err := cmd.CombinedOutput()

	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.ExitCode())
	require.Contains(t, string(out), `HERALD_SHUTDOWN_TIMEOUT: time: invalid duration "soon"`)
}

var (
	listeningRe = regexp.MustCompile(`listening on (http://\S+)`)
	keyRe       = regexp.MustCompile(`^\s+(hk_\S+)$`)
)

func readBanner(t *testing.T, stdout io.Reader) (url, key string) {
	t.Helper()

	lines := bufio.NewScanner(stdout)
	for (url == "" || key == "") && lines.Scan() {
		if m := listeningRe.FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
		}

		if m := keyRe.FindStringSubmatch(lines.Text()); m != nil {
			key = m[1]
		}
	}

	require.NotEmpty(t, url, "no URL printed")
	require.NotEmpty(t, key, "no key printed")

	return url, key
}

// TestKilledWorkerDeliveriesAreRetried kills a worker with SIGKILL while its
// delivery hangs at the receiver, then starts another: the delivery must
// still arrive, with the same webhook-id.
func TestKilledWorkerDeliveriesAreRetried(t *testing.T) {
	t.Parallel()

	var (
		db      = testdb.Empty(t)
		bin     = build(t, "github.com/heraldhq/herald/cmd/herald")
		arrived = make(chan string, 16)
		release = make(chan struct{})
	)

	var hung atomic.Bool
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("Webhook-Id")
		if hung.CompareAndSwap(false, true) {
			// The first try hangs until its worker is gone.
			select {
			case <-release:
			case <-r.Context().Done():
			}

			return
		}

		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() {
		close(release)
		receiver.Close()
	})

	env := []string{
		"HERALD_DATABASE_URL=" + db.URL,
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_API_KEY=a-key-for-this-crash-test",
		"HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
		"HERALD_DELIVERY_TIMEOUT=1s",
	}

	api := exec.CommandContext(t.Context(), bin, "api")
	api.Env = env
	stdout, err := api.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, api.Start())
	t.Cleanup(func() { _ = api.Process.Kill(); _ = api.Wait() })

	url := readURL(t, stdout)
	c := authedClient(t, url, "a-key-for-this-crash-test")

	first := startWorker(t, bin, env)

	_, err = c.PutTenantWithResponse(t.Context(), "acme", client.TenantInput{})
	require.NoError(t, err)
	ep, err := c.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{Url: receiver.URL})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ep.StatusCode(), string(ep.Body))

	msg, err := c.PublishMessageWithResponse(t.Context(), "acme",
		client.MessageInput{EventType: "invoice.paid", Payload: []byte(`{"n":1}`)})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, msg.StatusCode(), string(msg.Body))

	require.Equal(t, msg.JSON202.Id, waitFor(t, arrived, 30*time.Second), "the first try reaches the receiver")
	require.NoError(t, first.Process.Signal(syscall.SIGKILL))
	_ = first.Wait()

	startWorker(t, bin, env)
	require.Equal(t, msg.JSON202.Id, waitFor(t, arrived, 90*time.Second), "another worker tries again")

	require.Eventually(t, func() bool {
		got, err := c.GetMessageWithResponse(t.Context(), "acme", msg.JSON202.Id)
		require.NoError(t, err)

		return got.JSON200.Deliveries[0].Status == client.DeliveryStatusSucceeded
	}, 10*time.Second, 50*time.Millisecond)
}

func startWorker(t *testing.T, bin string, env []string) *exec.Cmd {
	t.Helper()

	cmd := exec.CommandContext(t.Context(), bin, "worker")
	cmd.Env = env
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	return cmd
}

func waitFor(t *testing.T, ch <-chan string, limit time.Duration) string {
	t.Helper()

	select {
	case v := <-ch:
		return v
	case <-time.After(limit):
		t.Fatalf("nothing arrived within %s", limit)
		return ""
	}
}

func readURL(t *testing.T, stdout io.Reader) string {
	t.Helper()

	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if m := listeningRe.FindStringSubmatch(lines.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return m[1]
		}
	}

	t.Fatal("no URL printed")

	return ""
}

func authedClient(t *testing.T, url, key string) *client.ClientWithResponses {
	t.Helper()

	c, err := client.NewClientWithResponses(url, client.WithRequestEditorFn(
		func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}))
	require.NoError(t, err)

	return c
}

// TestBinaryServesOnSQLiteWithNoConfiguration runs herald serve as a new
// user would, with no HERALD_* variable at all: it must create herald.db
// in the working directory and serve the API.
func TestBinaryServesOnSQLiteWithNoConfiguration(t *testing.T) {
	t.Parallel()

	var (
		bin = build(t, "github.com/heraldhq/herald/cmd/herald")
		dir = t.TempDir()
	)

	cmd := exec.CommandContext(t.Context(), bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"HERALD_ADDR=127.0.0.1:0"} // port 0: tests run side by side
	cmd.Stderr = os.Stderr

	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	url, key := readBanner(t, stdout)

	res, err := authedClient(t, url, key).PutTenantWithResponse(t.Context(), "acme", client.TenantInput{})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode())
	require.FileExists(t, filepath.Join(dir, "herald.db"))

	// A second serve on the same file is refused, plainly.
	second := exec.CommandContext(t.Context(), bin, "serve")
	second.Dir = dir
	second.Env = []string{"HERALD_ADDR=127.0.0.1:0"}
	out, err := second.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "in use by another Herald process")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
}

// TestSplitBinaries checks that cmd/api and cmd/worker are the api and
// worker commands: they read the same configuration and say who failed.
func TestSplitBinaries(t *testing.T) {
	t.Parallel()

	for _, name := range []string{"api", "worker"} {
		bin := build(t, "github.com/heraldhq/herald/cmd/"+name)

		cmd := exec.CommandContext(t.Context(), bin)
		cmd.Env = []string{"HERALD_DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "h.db")}
		out, err := cmd.CombinedOutput()

		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		require.Equal(t, 1, exit.ExitCode())
		require.Contains(t, string(out), "herald "+name+": a SQLite database runs in one process")
	}
}
