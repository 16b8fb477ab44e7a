package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Deadlines of a Herald the benchmark starts.
const (
	// startTimeout bounds the wait for Herald to print its URL, migrations
	// included.
	startTimeout = time.Minute

	// stopTimeout is how long Herald has to exit after SIGTERM before it is
	// killed.
	stopTimeout = 30 * time.Second
)

// banner starts the line on which herald serve prints its URL.
const banner = "Herald API listening on "

// herald is the Herald under test: a herald serve process the benchmark
// started, or one already running.
type herald struct {
	url string
	key string

	// cmd is nil for a Herald the benchmark did not start.
	cmd *exec.Cmd

	// exited is closed once cmd has exited; waitErr is then its error.
	exited  chan struct{}
	waitErr error

	// stopped is set by the first call of stop.
	stopped bool
}

// heraldParams says how to start herald serve.
type heraldParams struct {
	bin      string
	database string

	// env holds more HERALD_* variables, as NAME=value.
	env []string

	stderr io.Writer
}

// startHerald starts herald serve and waits until it listens. The process
// gets SIGTERM when ctx is done, and SIGKILL if the benchmark dies.
func startHerald(ctx context.Context, p heraldParams) (*herald, error) {
	key, err := newAPIKey()
	if err != nil {
		return nil, err
	}

	out := &bannerWriter{found: make(chan string, 1)}
	cmd := exec.CommandContext(ctx, p.bin, "serve") //nolint:gosec // running the given binary is the point
	cmd.Env = heraldEnv(os.Environ(), p, key)
	cmd.Stdout = out
	cmd.Stderr = p.stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start herald: %w", err)
	}

	h := &herald{key: key, cmd: cmd, exited: make(chan struct{})}
	go func() {
		h.waitErr = cmd.Wait()
		close(h.exited)
	}()

	if h.url, err = h.awaitURL(ctx, out.found); err != nil {
		_ = h.stop()
		return nil, err
	}

	return h, nil
}

// heraldEnv returns the environment of herald serve: the benchmark's own,
// less its HERALD_* variables, which Herald would read, plus those of p.
func heraldEnv(environ []string, p heraldParams, key string) []string {
	env := make([]string, 0, len(environ)+len(p.env)+5)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "HERALD_") {
			env = append(env, kv)
		}
	}

	env = append(env,
		"HERALD_ADDR=127.0.0.1:0",
		"HERALD_API_KEY="+key,
		"HERALD_ALLOWED_NETWORKS=127.0.0.0/8",
		"HERALD_LOG_LEVEL=warn",
		"HERALD_DATABASE_URL="+p.database,
	)

	return append(env, p.env...)
}

// newAPIKey returns a random admin API key.
func newAPIKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api key: %w", err)
	}

	return "bench_" + hex.EncodeToString(b), nil
}

// awaitURL waits for the URL herald serve prints once it listens.
func (h *herald) awaitURL(ctx context.Context, found <-chan string) (string, error) {
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()

	select {
	case url := <-found:
		return url, nil
	case <-h.exited:
		return "", fmt.Errorf("herald exited before listening: %w", h.waitErr)
	case <-timer.C:
		return "", fmt.Errorf("herald printed no URL within %s", startTimeout)
	case <-ctx.Done():
		return "", fmt.Errorf("start herald: %w", ctx.Err())
	}
}

// pid returns the process id of Herald, or 0 for a Herald the benchmark
// did not start.
func (h *herald) pid() int {
	if h.cmd == nil {
		return 0
	}

	return h.cmd.Process.Pid
}

// stop sends SIGTERM to a Herald the benchmark started and waits for it to
// exit, killing it after stopTimeout. It reports an exit other than a
// clean one. Calls after the first do nothing.
func (h *herald) stop() error {
	if h.cmd == nil || h.stopped {
		return nil
	}

	h.stopped = true

	_ = h.cmd.Process.Signal(syscall.SIGTERM)

	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()

	select {
	case <-h.exited:
	case <-timer.C:
		_ = h.cmd.Process.Kill()
		<-h.exited

		return fmt.Errorf("herald did not stop within %s of SIGTERM: killed", stopTimeout)
	}

	if h.waitErr != nil {
		return fmt.Errorf("herald exit: %w", h.waitErr)
	}

	return nil
}

// running reports whether a Herald the benchmark started is still up.
func (h *herald) running() bool {
	if h.cmd == nil {
		return true
	}

	select {
	case <-h.exited:
		return false
	default:
		return true
	}
}

// bannerWriter takes Herald's standard output and sends the URL of its
// banner line on found, once. Lines are discarded.
type bannerWriter struct {
	found chan string
	line  []byte
	done  bool
}

// maxLine bounds the part of a line bannerWriter keeps.
const maxLine = 4096

// Write looks for the banner in p.
func (w *bannerWriter) Write(p []byte) (int, error) {
	for rest := p; !w.done && len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			w.line = append(w.line, rest[:min(len(rest), maxLine-len(w.line))]...)
			break
		}

		w.line = append(w.line, rest[:min(i, maxLine-len(w.line))]...)
		rest = rest[i+1:]

		if url, ok := strings.CutPrefix(strings.TrimSpace(string(w.line)), banner); ok {
			w.found <- url
			w.done = true
		}

		w.line = w.line[:0]
	}

	return len(p), nil
}
