package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/api"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/testdb"
)

// problemPrefix starts the type of every problem the API answers.
const problemPrefix = "urn:herald:problem:"

// testBundle is one test's API, served over real HTTP on its own schema.
type testBundle struct {
	// client is the generated client, sending the bundle's API key.
	client *client.ClientWithResponses

	// store reads the same schema as the API, for what the API does not
	// show, such as the secrets that sign.
	store *postgres.Store

	// db is the test's schema; closing db.Pool takes the database away.
	db *testdb.DB

	// baseURL is the API's address, without a trailing slash.
	baseURL string

	// key is the API key the keyring accepts.
	key string

	// logs holds everything the API logged.
	logs *syncBuffer

	// httpClient sends every request of the test through a
	// [checkedTransport].
	httpClient *http.Client
}

// setupOpts changes what [setupWithOpts] builds.
type setupOpts struct {
	// allowUnavailable lets the API answer 503 without failing the test.
	allowUnavailable bool

	// maxBodyBytes is the API's body limit; zero keeps the default.
	maxBodyBytes int64
}

// setup returns a bundle on a fresh migrated schema. Its clients fail every
// call answered with a server error, or after which the logs hold a secret.
func setup(t *testing.T) *testBundle {
	t.Helper()

	return setupWithOpts(t, setupOpts{})
}

func setupWithOpts(t *testing.T, opts setupOpts) *testBundle {
	t.Helper()

	db := testdb.New(t)

	plain, key, err := auth.NewKey("test")
	require.NoError(t, err)

	var (
		store     = postgres.New(db.Pool)
		logs      = &syncBuffer{}
		transport = &checkedTransport{
			next:             http.DefaultTransport,
			logs:             logs,
			secrets:          map[string]string{"a signing secret": "whsec_", "the API key": plain},
			allowUnavailable: opts.allowUnavailable,
		}
	)

	handler := server.New(server.Config{
		Store:        store,
		Keyring:      auth.NewKeyring(key.Hash),
		Logger:       slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MaxBodyBytes: opts.maxBodyBytes,
	})

	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)

	httpClient := &http.Client{Transport: transport}
	c, err := client.NewClientWithResponses(srv.URL,
		client.WithHTTPClient(httpClient),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+plain)
			return nil
		}))
	require.NoError(t, err)

	return &testBundle{
		client:     c,
		store:      store,
		db:         db,
		baseURL:    srv.URL,
		key:        plain,
		logs:       logs,
		httpClient: httpClient,
	}
}

// answer is what the API answered to a hand-made request. It has the
// methods of the generated responses that [requireProblem] reads.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) StatusCode() int     { return a.status }
func (a answer) ContentType() string { return a.header.Get("Content-Type") }
func (a answer) GetBody() []byte     { return a.body }

// do sends a hand-made request with the bundle's API key, for what the
// generated client cannot express. A non-empty body is sent as
// application/json unless an edit says otherwise; edits run last.
func (b *testBundle) do(t *testing.T, method, path, body string, edits ...func(*http.Request)) answer {
	t.Helper()

	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}

	req, err := http.NewRequestWithContext(t.Context(), method, b.baseURL+path, reader)
	require.NoError(t, err)

	req.Header.Set("Authorization", "Bearer "+b.key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}

	for _, edit := range edits {
		edit(req)
	}

	resp, err := b.httpClient.Do(req)
	require.NoError(t, err)

	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)

	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// withHeader sets a request header, or removes it when value is empty.
func withHeader(name, value string) func(*http.Request) {
	return func(req *http.Request) {
		if value == "" {
			req.Header.Del(name)
			return
		}

		req.Header.Set(name, value)
	}
}

// response is what [requireProblem] needs of an answer: every generated
// response and [answer] have it.
type response interface {
	StatusCode() int
	ContentType() string
	GetBody() []byte
}

// requireProblem asserts that rsp is an application/problem+json answer
// with the given status, of the given kind, and naming field (none when
// field is empty). It returns the problem.
func requireProblem(t *testing.T, rsp response, status int, kind, field string) client.Problem {
	t.Helper()

	require.Equal(t, status, rsp.StatusCode(), "body: %s", rsp.GetBody())
	require.Equal(t, "application/problem+json", rsp.ContentType())

	var members map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rsp.GetBody(), &members), "body: %s", rsp.GetBody())

	for _, name := range []string{"type", "title", "status", "detail"} {
		require.Contains(t, members, name, "body: %s", rsp.GetBody())
	}

	var p client.Problem
	require.NoError(t, json.Unmarshal(rsp.GetBody(), &p))
	require.Equal(t, problemPrefix+kind, p.Type)
	require.Equal(t, status, p.Status)
	require.NotEmpty(t, p.Title)
	require.NotEmpty(t, p.Detail)

	if field == "" {
		require.Nil(t, p.Field, "body: %s", rsp.GetBody())
		return p
	}

	require.NotNil(t, p.Field, "body: %s", rsp.GetBody())
	require.Equal(t, field, *p.Field, "body: %s", rsp.GetBody())
	require.NotNil(t, p.Errors)
	require.NotEmpty(t, *p.Errors)
	require.Equal(t, field, (*p.Errors)[0].Field)

	return p
}

// checkedTransport refuses, with an error, every answer that is a server
// error or that follows a log line holding a secret. Every call of a test
// is followed by require.NoError, so the test that sent the request stops
// there.
type checkedTransport struct {
	next http.RoundTripper
	logs *syncBuffer

	// secrets must never be logged: each is named by what it is.
	secrets map[string]string

	// allowUnavailable lets 503 through, for the readiness test.
	allowUnavailable bool
}

func (c *checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err //nolint:wrapcheck // a transport passes errors through
	}

	// The API logs before it answers, so the logs are complete here.
	logs := c.logs.String()
	for name, secret := range c.secrets {
		if strings.Contains(logs, secret) {
			_ = resp.Body.Close()
			return nil, fmt.Errorf("%s %s: %s is in the logs", req.Method, req.URL.Path, name)
		}
	}

	allowed := c.allowUnavailable && resp.StatusCode == http.StatusServiceUnavailable
	if resp.StatusCode >= http.StatusInternalServerError && !allowed {
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()

		return nil, fmt.Errorf("%s %s: server error %d: %s", req.Method, req.URL.Path, resp.StatusCode, body)
	}

	return resp, nil
}

// syncBuffer is a buffer that the server's goroutines may write to while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.Write(p) //nolint:wrapcheck // bytes.Buffer never fails
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.buf.String()
}

func TestHealth(t *testing.T) {
	t.Parallel()

	b := setup(t)

	// The probes need no key.
	health := b.do(t, http.MethodGet, "/healthz", "", withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, health.status)
	require.JSONEq(t, `{"status":"ok"}`, string(health.body))

	ready := b.do(t, http.MethodGet, "/readyz", "", withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, ready.status)
	require.JSONEq(t, `{"status":"ok"}`, string(ready.body))

	res, err := b.client.GetReadyWithResponse(t.Context())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	require.Equal(t, "ok", res.JSON200.Status)
}

func TestReadyWithoutDatabase(t *testing.T) {
	t.Parallel()

	b := setupWithOpts(t, setupOpts{allowUnavailable: true})
	b.db.Pool.Close()

	res, err := b.client.GetReadyWithResponse(t.Context())
	require.NoError(t, err)
	requireProblem(t, res, http.StatusServiceUnavailable, "unavailable", "")
	require.NotNil(t, res.ApplicationproblemJSON503)

	// A failure of Herald itself is logged, with what went wrong.
	require.Contains(t, b.logs.String(), `"status_code":503`)

	// Liveness does not depend on the database.
	health, err := b.client.GetHealthWithResponse(t.Context())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, health.StatusCode())
}

func TestOpenAPISpec(t *testing.T) {
	t.Parallel()

	b := setup(t)

	res := b.do(t, http.MethodGet, "/openapi.yaml", "", withHeader("Authorization", ""))
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "application/yaml", res.header.Get("Content-Type"))
	require.Equal(t, api.Spec, res.body)
}

func TestAuth(t *testing.T) {
	t.Parallel()

	b := setup(t)

	tests := []struct {
		name          string
		authorization string // empty sends no Authorization header
	}{
		{name: "no header"},
		{name: "wrong key", authorization: "Bearer hk_not-a-key-of-this-keyring"},
		{name: "basic scheme", authorization: "Basic " + b.key},
		{name: "bearer with empty token", authorization: "Bearer "},
		{name: "bearer with blank token", authorization: "Bearer    "},
		{name: "key without scheme", authorization: b.key},
		{name: "key with a suffix", authorization: "Bearer " + b.key + "x"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			res, err := b.client.ListTenantsWithResponse(t.Context(), nil,
				func(_ context.Context, req *http.Request) error {
					withHeader("Authorization", tt.authorization)(req)
					return nil
				})
			require.NoError(t, err)

			requireProblem(t, res, http.StatusUnauthorized, "unauthorized", "")
			require.Equal(t, `Bearer realm="herald"`, res.HTTPResponse.Header.Get("WWW-Authenticate"))
			require.NotNil(t, res.ApplicationproblemJSON401)
		})
	}

	t.Run("correct key", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListTenantsWithResponse(t.Context(), nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		require.Empty(t, res.HTTPResponse.Header.Get("WWW-Authenticate"))
	})

	t.Run("scheme in any case", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, "/v1/tenants", "", withHeader("Authorization", "bearer "+b.key))
		require.Equal(t, http.StatusOK, res.status)
	})
}

func TestRoutes(t *testing.T) {
	t.Parallel()

	b := setup(t)

	t.Run("unknown route under /v1 without a key", func(t *testing.T) {
		t.Parallel()

		for _, path := range []string{"/v1", "/v1/", "/v1/nothing", "/v1/tenants/acme/nothing"} {
			res := b.do(t, http.MethodGet, path, "", withHeader("Authorization", ""))
			requireProblem(t, res, http.StatusUnauthorized, "unauthorized", "")
			require.NotEmpty(t, res.header.Get("WWW-Authenticate"))
		}
	})

	t.Run("unknown route under /v1 with a key", func(t *testing.T) {
		t.Parallel()

		for _, path := range []string{"/v1", "/v1/", "/v1/nothing", "/v1/tenants/acme/nothing"} {
			res := b.do(t, http.MethodGet, path, "")
			requireProblem(t, res, http.StatusNotFound, "not-found", "")
		}
	})

	t.Run("unknown route outside /v1", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, "/nothing", "", withHeader("Authorization", ""))
		requireProblem(t, res, http.StatusNotFound, "not-found", "")
	})

	t.Run("wrong method", func(t *testing.T) {
		t.Parallel()

		tests := []struct{ method, path string }{
			{http.MethodPost, "/v1/tenants"},
			{http.MethodDelete, "/v1/tenants"},
			{http.MethodPost, "/v1/tenants/acme"},
			{http.MethodPut, "/v1/tenants/acme/endpoints"},
			{http.MethodPost, "/v1/tenants/acme/endpoints/ep_01jbq6q6ffe5x9qf2a8n1c3m4z/secret"},
			{http.MethodGet, "/v1/tenants/acme/endpoints/ep_01jbq6q6ffe5x9qf2a8n1c3m4z/secret/rotate"},
		}

		for _, tt := range tests {
			res := b.do(t, tt.method, tt.path, "")
			requireProblem(t, res, http.StatusMethodNotAllowed, "method-not-allowed", "")
		}
	})

	t.Run("wrong method without a key", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodPost, "/v1/tenants", "", withHeader("Authorization", ""))
		requireProblem(t, res, http.StatusUnauthorized, "unauthorized", "")
	})

	t.Run("HEAD answers a problem without a body", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodHead, "/v1/nothing", "")
		require.Equal(t, http.StatusNotFound, res.status)
		require.Equal(t, "application/problem+json", res.header.Get("Content-Type"))
		require.Empty(t, res.body)
	})

	t.Run("HEAD is answered like GET, without a body", func(t *testing.T) {
		t.Parallel()

		for _, path := range []string{"/healthz", "/v1/tenants", "/openapi.yaml"} {
			res := b.do(t, http.MethodHead, path, "")
			require.Equal(t, http.StatusOK, res.status, path)
			require.NotEmpty(t, res.header.Get("Content-Type"), path)
			require.Empty(t, res.body, path)
		}
	})

	t.Run("every answer has a request id", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, "/v1/tenants", "")
		require.NotEmpty(t, res.header.Get("X-Request-ID"))
	})
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()

	// No keyring, no logger, no store: the API still serves its probes
	// and refuses every /v1 call.
	srv := httptest.NewServer(server.New(server.Config{}))
	t.Cleanup(srv.Close)

	c, err := client.NewClientWithResponses(srv.URL)
	require.NoError(t, err)

	health, err := c.GetHealthWithResponse(t.Context())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, health.StatusCode())

	list, err := c.ListTenantsWithResponse(t.Context(), nil, func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer hk_anything")
		return nil
	})
	require.NoError(t, err)
	requireProblem(t, list, http.StatusUnauthorized, "unauthorized", "")
}
