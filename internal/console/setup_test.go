package console_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/console"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/schema"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// testKey is the API key the tests sign in with.
const testKey = "hk_console-test-key-0123456789abcdefghijklmnop"

// acme is the tenant every test starts with.
const acme = "acme"

// enqueuer records the jobs a store queues.
type enqueuer struct {
	mu         sync.Mutex
	refs       []messages.Ref
	recoveries []string
}

func (e *enqueuer) EnqueueDeliveries(_ context.Context, _ *sql.Tx, refs []messages.Ref) error {
	e.mu.Lock()
	defer e.mu.Unlock()

	e.refs = append(e.refs, refs...)

	return nil
}

func (e *enqueuer) EnqueueRecovery(_ context.Context, _ *sql.Tx, id string) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()

	e.recoveries = append(e.recoveries, id)

	return int64(len(e.recoveries)), nil
}

// queued returns the delivery jobs queued so far.
func (e *enqueuer) queued() []messages.Ref {
	e.mu.Lock()
	defer e.mu.Unlock()

	return slices.Clone(e.refs)
}

// bundle is a console on a fresh SQLite store, a browser-like client and
// what the test stored.
type bundle struct {
	db     *sql.DB
	store  *sqlite.Store
	jobs   *enqueuer
	server *httptest.Server
	client *http.Client
	log    *lockedWriter
}

// setup starts a console on a fresh, migrated SQLite database holding the
// tenant acme, with a keyring that accepts testKey.
func setup(t *testing.T) *bundle {
	t.Helper()

	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herald.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	require.NoError(t, schema.UpSQLite(t.Context(), db, slog.New(slog.DiscardHandler)))

	b := &bundle{jobs: &enqueuer{}, log: &lockedWriter{w: &strings.Builder{}}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("console log:\n%s", b.log.String())
		}
	})
	b.db, b.store = db, sqlite.New(db).WithEnqueue(b.jobs)
	b.server = httptest.NewServer(b.console(auth.NewKeyring(auth.Hash(testKey))))
	t.Cleanup(b.server.Close)
	b.client = newClient(t)

	tenant, err := subscriptions.NewTenant(acme, subscriptions.TenantParams{Name: "Acme Inc."})
	require.NoError(t, err)
	_, _, err = b.store.PutTenant(t.Context(), tenant)
	require.NoError(t, err)

	return b
}

// console returns a console on the bundle's store with keyring.
func (b *bundle) console(keyring *auth.Keyring) http.Handler {
	logger := slog.New(slog.NewTextHandler(b.log, nil))
	return console.New(console.Config{Store: b.store, Keyring: keyring, Logger: logger})
}

// lockedWriter is a log that handlers write while tests read it.
type lockedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

// String returns what was written so far.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.Write(p) //nolint:wrapcheck // a test log
}

// newClient returns a client with a cookie jar that does not follow
// redirects, so that tests see them.
func newClient(t *testing.T) *http.Client {
	t.Helper()

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)

	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// page is one answer of the console.
type page struct {
	status int
	header http.Header
	body   string
}

// location returns the path the answer redirects to.
func (p page) location() string {
	return p.header.Get("Location")
}

// csrfRe finds the CSRF token in a page's forms.
var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page's forms.
func (p page) csrf(t *testing.T) string {
	t.Helper()

	m := csrfRe.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no CSRF token in the page:\n%s", p.body)

	return m[1]
}

// get fetches path with the bundle's client.
func (b *bundle) get(t *testing.T, path string) page {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.server.URL+path, nil)
	require.NoError(t, err)

	return b.do(t, req)
}

// post submits form to path as a browser on the console's page would,
// with an Origin header naming the console.
func (b *bundle) post(t *testing.T, path string, form url.Values) page {
	t.Helper()

	return b.postFrom(t, b.server.URL, path, form)
}

// postFrom submits form to path with the Origin header origin, none when
// empty.
func (b *bundle) postFrom(t *testing.T, origin, path string, form url.Values) page {
	t.Helper()

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, b.server.URL+path,
		strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	if origin != "" {
		req.Header.Set("Origin", origin)
	}

	return b.do(t, req)
}

func (b *bundle) do(t *testing.T, req *http.Request) page {
	t.Helper()

	res, err := b.client.Do(req)
	require.NoError(t, err)

	defer res.Body.Close()

	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)

	return page{status: res.StatusCode, header: res.Header, body: string(body)}
}

// signIn signs the bundle's client in with testKey.
func (b *bundle) signIn(t *testing.T) {
	t.Helper()

	p := b.post(t, "/console/login", url.Values{"key": {testKey}})
	require.Equal(t, http.StatusSeeOther, p.status, p.body)
	require.Equal(t, "/console/tenants", p.location())
}

// csrf returns the CSRF token of the signed-in client's session.
func (b *bundle) csrf(t *testing.T) string {
	t.Helper()

	return b.get(t, "/console/tenants").csrf(t)
}

// endpoint stores an endpoint of acme, disabled for reason unless it is
// empty.
func (b *bundle) endpoint(t *testing.T, disabledReason string) subscriptions.Endpoint {
	t.Helper()

	e, err := subscriptions.NewEndpoint(acme, subscriptions.EndpointParams{URL: "https://example.com/hooks"})
	require.NoError(t, err)
	require.NoError(t, b.store.CreateEndpoint(t.Context(), e))

	if disabledReason != "" {
		require.NoError(t, b.store.DisableEndpoint(t.Context(), e.ID, disabledReason))
		e, err = b.store.GetEndpoint(t.Context(), acme, e.ID)
		require.NoError(t, err)
	}

	return e
}

// publish stores a message of acme of type eventType, delivered to its
// enabled endpoints.
func (b *bundle) publish(t *testing.T, eventType string) messages.Message {
	t.Helper()

	m, err := messages.New(acme, messages.Params{EventType: eventType, Payload: []byte(`{"n":1}`)}, 1<<16)
	require.NoError(t, err)

	published, err := b.store.PublishMessage(t.Context(), m)
	require.NoError(t, err)

	return published.Message
}

// fail records an attempt of the message at the endpoint answered with
// status and body, which gives the delivery up.
func (b *bundle) fail(t *testing.T, messageID, endpointID string, status int, body string) {
	t.Helper()

	started := time.Now().UTC().Truncate(time.Microsecond)
	id, err := messages.NewAttemptID(started)
	require.NoError(t, err)

	a := messages.Attempt{
		ID:           id,
		MessageID:    messageID,
		EndpointID:   endpointID,
		Number:       1,
		StartedAt:    started,
		Duration:     42 * time.Millisecond,
		StatusCode:   status,
		ResponseBody: []byte(body),
		Error:        "the endpoint answered " + http.StatusText(status),
	}
	require.NoError(t, b.store.RecordAttempt(t.Context(), a, messages.StatusFailed,
		"the retry schedule ran out"))
}

// failed stores a message to the endpoint whose delivery failed with 500.
func (b *bundle) failed(t *testing.T, e subscriptions.Endpoint) messages.Message {
	t.Helper()

	m := b.publish(t, "invoice.paid")
	b.fail(t, m.ID, e.ID, http.StatusInternalServerError, "upstream exploded")

	return m
}

// delivery returns the message's delivery to the endpoint.
func (b *bundle) delivery(t *testing.T, messageID, endpointID string) messages.Delivery {
	t.Helper()

	_, deliveries, err := b.store.GetMessage(t.Context(), acme, messageID)
	require.NoError(t, err)

	i := slices.IndexFunc(deliveries, func(d messages.Delivery) bool { return d.EndpointID == endpointID })
	require.GreaterOrEqual(t, i, 0, "no delivery of %s to %s", messageID, endpointID)

	return deliveries[i]
}

// deliveryPath is the console's page of the message's delivery to the
// endpoint.
func deliveryPath(messageID, endpointID string) string {
	return "/console/tenants/acme/messages/" + messageID + "/endpoints/" + endpointID
}

// endpointPath is the console's page of the endpoint.
func endpointPath(endpointID string) string {
	return "/console/tenants/acme/endpoints/" + endpointID
}
