package main_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
