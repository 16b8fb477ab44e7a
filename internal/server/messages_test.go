package server_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/server"
	"github.com/heraldhq/herald/internal/store/storetest"
)

// unknownMessageID is a well-formed message id that no message has.
const unknownMessageID = "msg_01jbq6q6ffe5x9qf2a8n1c3m4z"

// publishOpts changes what [setupPublish] builds.
type publishOpts struct {
	// maxPayloadBytes is the API's payload limit; zero keeps the default.
	maxPayloadBytes int

	// egress is the API's egress policy; nil keeps the default.
	egress *egress.Policy
}

// enqueued is the jobs of one message queued by the enqueue function of
// [setupPublish]; one call queues those of every message in a batch.
type enqueued struct {
	messageID   string
	endpointIDs []string
}

// enqueueLog records the delivery jobs the API queued.
type enqueueLog struct {
	mu    sync.Mutex
	calls []enqueued
}

func (l *enqueueLog) enqueue(_ context.Context, _ pgx.Tx, refs []messages.Ref) error {
	l.mu.Lock()
	defer l.mu.Unlock()

	first := len(l.calls)

	for _, ref := range refs {
		i := slices.IndexFunc(l.calls[first:], func(e enqueued) bool { return e.messageID == ref.MessageID })
		if i < 0 {
			l.calls = append(l.calls, enqueued{messageID: ref.MessageID})
			i = len(l.calls) - 1 - first
		}

		call := &l.calls[first+i]
		call.endpointIDs = append(call.endpointIDs, ref.EndpointID)
	}

	return nil
}

func (l *enqueueLog) recorded() []enqueued {
	l.mu.Lock()
	defer l.mu.Unlock()

	return slices.Clone(l.calls)
}

// setupPublish returns a bundle whose API can publish: its store queues
// delivery jobs into the returned log. The bundle's key, logs, schema and
// checked transport are those of [setup].
func setupPublish(t *testing.T, opts publishOpts) (*testBundle, *enqueueLog) {
	t.Helper()

	var (
		b    = setup(t)
		jobs = &enqueueLog{}
	)

	publishing := b.serve(t, server.Config{
		Store:           b.store.WithEnqueue(storetest.EnqueueFunc[pgx.Tx](jobs.enqueue)),
		MaxPayloadBytes: opts.maxPayloadBytes,
		Egress:          opts.egress,
	})

	return publishing, jobs
}

// serve returns a copy of b whose API is another server made with cfg, on
// b's keyring, logs and checked transport unless cfg names a keyring.
func (b *testBundle) serve(t *testing.T, cfg server.Config) *testBundle {
	t.Helper()

	if cfg.Keyring == nil {
		cfg.Keyring = auth.NewKeyring(auth.Hash(b.key))
	}

	cfg.Logger = slog.New(slog.NewJSONHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	srv := httptest.NewServer(server.New(cfg))
	t.Cleanup(srv.Close)

	c, err := client.NewClientWithResponses(srv.URL,
		client.WithHTTPClient(b.httpClient),
		client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+b.key)
			return nil
		}))
	require.NoError(t, err)

	served := *b
	served.client = c
	served.baseURL = srv.URL

	return &served
}

// publish publishes a message of the tenant acme through the API and
// returns it.
func (b *testBundle) publish(t *testing.T, in client.MessageInput) client.PublishedMessage {
	t.Helper()

	res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", in)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res.StatusCode(), "body: %s", res.Body)

	return *res.JSON202
}

// attemptSeq makes the ids of attempts started at once unique.
var attemptSeq atomic.Int64

// recordAttempt stores an attempt of the delivery started n seconds into
// 2026, with an id that sorts by n, and returns it.
func (b *testBundle) recordAttempt(t *testing.T, messageID, endpointID string, n int, ok bool) messages.Attempt {
	t.Helper()

	started := time.Date(2026, 1, 1, 0, 0, n, 0, time.UTC)
	ms := started.UnixMilli()

	id, err := typeid.FromUUIDWithPrefix("atm",
		fmt.Sprintf("%08x-%04x-7000-8000-%012x", ms>>16, ms&0xffff, attemptSeq.Add(1)))
	require.NoError(t, err)

	a := messages.Attempt{
		ID:            id.String(),
		MessageID:     messageID,
		EndpointID:    endpointID,
		Number:        n + 1,
		StartedAt:     started,
		Duration:      1500 * time.Microsecond,
		StatusCode:    503,
		ResponseBody:  []byte("busy \xff"),
		Error:         "the endpoint answered 503 Service Unavailable",
		NextAttemptAt: started.Add(time.Minute),
	}

	status := messages.StatusPending
	if ok {
		a.StatusCode, a.ResponseBody, a.Error, a.Succeeded, a.NextAttemptAt = 200, []byte("ok"), "", true, time.Time{}
		status = messages.StatusSucceeded
	}

	require.NoError(t, b.store.RecordAttempt(t.Context(), a, status, ""))

	return a
}

// attemptIDs returns the ids of a page of attempts.
func attemptIDs(page []client.Attempt) []string {
	out := make([]string, len(page))
	for i, a := range page {
		out[i] = a.Id
	}

	return out
}

// newestFirst returns the attempts' ids, newest first.
func newestFirst(attempts ...messages.Attempt) []string {
	out := make([]string, len(attempts))
	for i, a := range attempts {
		out[len(out)-1-i] = a.ID
	}

	return out
}

// invoicePaid is a message that every test publishes.
func invoicePaid(eventID string) client.MessageInput {
	in := client.MessageInput{
		EventType: "invoice.paid",
		Payload:   json.RawMessage(`{"invoice_id": "inv_1", "amount": 1200}`),
	}
	if eventID != "" {
		in.EventId = &eventID
	}

	return in
}

func TestPublishMessage(t *testing.T) {
	t.Parallel()

	b, jobs := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})

	var (
		all      = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/all"})
		invoices = b.createEndpoint(t, "acme", client.EndpointInput{
			Url: "https://example.com/invoices", EventTypes: &[]string{"invoice.*"},
		})
		_ = b.createEndpoint(t, "acme", client.EndpointInput{
			Url: "https://example.com/customers", EventTypes: &[]string{"customer.*"},
		})
		_ = b.createEndpoint(t, "acme", client.EndpointInput{
			Url: "https://example.com/paused", Disabled: new(true),
		})
	)

	before := time.Now()
	published := b.publish(t, invoicePaid("evt-1"))

	require.True(t, strings.HasPrefix(published.Id, "msg_"), "id %q", published.Id)
	require.Equal(t, "acme", published.TenantId)
	require.Equal(t, "invoice.paid", published.EventType)
	require.Equal(t, new("evt-1"), published.EventId)
	require.Equal(t, 2, published.EndpointCount)
	require.WithinRange(t, published.CreatedAt, before.Add(-time.Second), time.Now())

	want := []string{all.Id, invoices.Id}
	slices.Sort(want)
	require.Equal(t, []enqueued{{messageID: published.Id, endpointIDs: want}}, jobs.recorded())

	t.Run("replay", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", invoicePaid("evt-1"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)
		require.Nil(t, res.JSON202)
		require.Equal(t, published.Id, res.JSON200.Id)
		require.Equal(t, 2, res.JSON200.EndpointCount)
		require.True(t, published.CreatedAt.Equal(res.JSON200.CreatedAt))

		// Nothing more was queued for the replay.
		queued := slices.DeleteFunc(jobs.recorded(), func(e enqueued) bool { return e.messageID != published.Id })
		require.Len(t, queued, 1)
	})

	t.Run("conflicting payload", func(t *testing.T) {
		t.Parallel()

		in := invoicePaid("evt-1")
		in.Payload = json.RawMessage(`{"invoice_id": "inv_2"}`)

		res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", in)
		require.NoError(t, err)
		p := requireProblem(t, res, http.StatusConflict, "conflict", "")
		require.Contains(t, p.Detail, "event_id")
		require.NotNil(t, res.ApplicationproblemJSON409)
	})

	t.Run("conflicting event type", func(t *testing.T) {
		t.Parallel()

		in := invoicePaid("evt-1")
		in.EventType = "invoice.failed"

		res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", in)
		require.NoError(t, err)
		requireProblem(t, res, http.StatusConflict, "conflict", "")
	})

	t.Run("without an event id", func(t *testing.T) {
		t.Parallel()

		first := b.publish(t, invoicePaid(""))
		second := b.publish(t, invoicePaid(""))
		require.Nil(t, first.EventId)
		require.NotEqual(t, first.Id, second.Id)
	})
}

func TestPublishMessageReplayQueuesNothing(t *testing.T) {
	t.Parallel()

	b, jobs := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/all"})

	first := b.publish(t, invoicePaid("evt-1"))

	for range 3 {
		res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", invoicePaid("evt-1"))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		require.Equal(t, first, *res.JSON200)
	}

	require.Len(t, jobs.recorded(), 1)
}

// TestPublishMessageConcurrently publishes many messages at once, which
// share transactions: each event id is stored once and answers every
// publish of it, each message is queued once, and an unknown tenant or a
// conflicting body fails only its own request.
func TestPublishMessageConcurrently(t *testing.T) {
	t.Parallel()

	const events = 20

	b, jobs := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/all"})

	type outcome struct {
		eventID string
		status  int
		id      string
	}

	var (
		outcomes = make(chan outcome, 4*events)
		wg       sync.WaitGroup
	)

	for i := range events {
		eventID := fmt.Sprintf("evt-%d", i)

		conflicting := invoicePaid(eventID)
		conflicting.Payload = json.RawMessage(`{"invoice_id": "other"}`)

		publishes := []struct {
			tenant string
			in     client.MessageInput
		}{
			{"acme", invoicePaid(eventID)},
			{"acme", invoicePaid(eventID)},
			{"ghost", invoicePaid(eventID)},
			{"acme", conflicting},
		}

		for _, p := range publishes {
			wg.Go(func() {
				res, err := b.client.PublishMessageWithResponse(t.Context(), p.tenant, p.in)
				if err != nil {
					t.Error(err)
					return
				}

				o := outcome{eventID: eventID, status: res.StatusCode()}
				if res.JSON202 != nil {
					o.id = res.JSON202.Id
				} else if res.JSON200 != nil {
					o.id = res.JSON200.Id
				}

				outcomes <- o
			})
		}
	}

	wg.Wait()
	close(outcomes)

	var (
		created  = make(map[string]string) // event id to message id
		answered = make(map[string][]string)
		statuses = make(map[string][]int)
	)

	for o := range outcomes {
		statuses[o.eventID] = append(statuses[o.eventID], o.status)

		switch o.status {
		case http.StatusAccepted:
			require.NotContains(t, created, o.eventID, "event %s created twice", o.eventID)
			created[o.eventID] = o.id
		case http.StatusOK:
			answered[o.eventID] = append(answered[o.eventID], o.id)
		}
	}

	require.Len(t, created, events)

	// Either body of an event may be stored first: the other body answers
	// 409, the same one 200, and the unknown tenant 404.
	for eventID, got := range statuses {
		slices.Sort(got)

		want := [][]int{{200, 202, 404, 409}, {202, 404, 409, 409}}
		require.Contains(t, want, got, "event %s", eventID)
	}

	queued := make(map[string]int)
	for _, call := range jobs.recorded() {
		queued[call.messageID]++
	}

	for eventID, id := range created {
		require.Equal(t, 1, queued[id], "message of %s", eventID)

		for _, got := range answered[eventID] {
			require.Equal(t, id, got, "answer for %s", eventID)
		}
	}
}

func TestPublishMessageToNoEndpoint(t *testing.T) {
	t.Parallel()

	b, jobs := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})

	published := b.publish(t, invoicePaid(""))
	require.Zero(t, published.EndpointCount)
	require.Empty(t, jobs.recorded())
}

func TestPublishMessageProblems(t *testing.T) {
	t.Parallel()

	b, jobs := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/all"})

	const path = "/v1/tenants/acme/messages"

	tests := []struct {
		name   string
		path   string
		body   string
		status int
		kind   string
		field  string
	}{
		{name: "unknown tenant", path: "/v1/tenants/ghost/messages", body: `{"event_type":"a","payload":{}}`, status: 404, kind: "not-found"},
		{name: "bad tenant id", path: "/v1/tenants/a%20b/messages", body: `{"event_type":"a","payload":{}}`, status: 400, kind: "invalid-parameter", field: "tenant_id"},
		{name: "no body", status: 400, kind: "invalid-request"},
		{name: "invalid JSON", body: `{"event_type":`, status: 400, kind: "invalid-request"},
		{name: "not an object", body: `[]`, status: 400, kind: "invalid-request"},
		{name: "unknown field", body: `{"event_type":"a","payload":{},"` + unknownField + `":1}`, status: 400, kind: "invalid-request", field: unknownField},
		{name: "event type of the wrong type", body: `{"event_type":1,"payload":{}}`, status: 400, kind: "invalid-request", field: "event_type"},
		{name: "event id of the wrong type", body: `{"event_type":"a","event_id":7,"payload":{}}`, status: 400, kind: "invalid-request", field: "event_id"},
		{name: "trailing data", body: `{"event_type":"a","payload":{}} {}`, status: 400, kind: "invalid-request"},
		{name: "event type missing", body: `{"payload":{}}`, status: 422, kind: "validation", field: "event_type"},
		{name: "event type bad", body: `{"event_type":"invoice..paid","payload":{}}`, status: 422, kind: "validation", field: "event_type"},
		{name: "payload missing", body: `{"event_type":"a"}`, status: 422, kind: "validation", field: "payload"},
		{name: "payload null", body: `{"event_type":"a","payload":null}`, status: 422, kind: "validation", field: "payload"},
		{name: "payload array", body: `{"event_type":"a","payload":[1]}`, status: 422, kind: "validation", field: "payload"},
		{name: "payload string", body: `{"event_type":"a","payload":"{}"}`, status: 422, kind: "validation", field: "payload"},
		{name: "payload number", body: `{"event_type":"a","payload":1}`, status: 422, kind: "validation", field: "payload"},
		{
			name:   "event id too long",
			body:   `{"event_type":"a","payload":{},"event_id":"` + strings.Repeat("e", 257) + `"}`,
			status: 422, kind: "validation", field: "event_id",
		},
		{name: "event id with NUL", body: `{"event_type":"a","payload":{},"event_id":"a\u0000b"}`, status: 422, kind: "validation", field: "event_id"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			res := b.do(t, http.MethodPost, cmp.Or(tt.path, path), tt.body)
			requireProblem(t, res, tt.status, tt.kind, tt.field)
		})
	}

	t.Run("every broken rule", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodPost, path, `{"event_type":"a b","payload":[]}`)
		p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "event_type")
		require.Len(t, *p.Errors, 2)
		require.Equal(t, "payload", (*p.Errors)[1].Field)
	})

	t.Run("not JSON", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodPost, path, `{"event_type":"a","payload":{}}`, withHeader("Content-Type", "text/plain"))
		requireProblem(t, res, http.StatusUnsupportedMediaType, "unsupported-media-type", "")
	})

	t.Run("unknown tenant through the client", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.PublishMessageWithResponse(t.Context(), "ghost", invoicePaid("evt-1"))
		require.NoError(t, err)
		p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
		require.Contains(t, p.Detail, `"ghost"`)
		require.NotNil(t, res.ApplicationproblemJSON404)
	})

	t.Run("invalid through the client", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", client.MessageInput{
			EventType: "invoice.paid",
			Payload:   json.RawMessage(`["not", "an", "object"]`),
		})
		require.NoError(t, err)
		requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "payload")
		require.NotNil(t, res.ApplicationproblemJSON422)
	})

	// None of the refused messages was stored or queued.
	t.Cleanup(func() { require.Empty(t, jobs.recorded()) })
}

func TestPublishMessageTooLarge(t *testing.T) {
	t.Parallel()

	const limit = 1024

	b, _ := setupPublish(t, publishOpts{maxPayloadBytes: limit})
	b.putTenant(t, "acme", client.TenantInput{})

	// payload returns an object of exactly n bytes.
	payload := func(n int) string { return `{"p":"` + strings.Repeat("x", n-8) + `"}` }

	exact := b.do(t, http.MethodPost, "/v1/tenants/acme/messages",
		`{"event_type":"a","payload":`+payload(limit)+`}`)
	require.Equal(t, http.StatusAccepted, exact.status, "body: %s", exact.body)

	over := b.do(t, http.MethodPost, "/v1/tenants/acme/messages",
		`{"event_type":"a","payload":`+payload(limit+1)+`}`)
	p := requireProblem(t, over, http.StatusRequestEntityTooLarge, "payload-too-large", "")
	require.Contains(t, p.Detail, "1024 bytes")

	// A body far over the limit is not read to its end.
	huge := b.do(t, http.MethodPost, "/v1/tenants/acme/messages",
		`{"event_type":"a","payload":`+payload(limit+16<<10+1)+`}`)
	p = requireProblem(t, huge, http.StatusRequestEntityTooLarge, "payload-too-large", "")
	require.Contains(t, p.Detail, "17 KiB")

	// And through the generated client.
	res, err := b.client.PublishMessageWithResponse(t.Context(), "acme", client.MessageInput{
		EventType: "a", Payload: json.RawMessage(payload(limit + 1)),
	})
	require.NoError(t, err)
	requireProblem(t, res, http.StatusRequestEntityTooLarge, "payload-too-large", "")
	require.NotNil(t, res.ApplicationproblemJSON413)
}

func TestPublishMessageDefaultLimit(t *testing.T) {
	t.Parallel()

	b, _ := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})

	payload := func(n int) json.RawMessage {
		return json.RawMessage(`{"p":"` + strings.Repeat("x", n-8) + `"}`)
	}

	exact, err := b.client.PublishMessageWithResponse(t.Context(), "acme", client.MessageInput{
		EventType: "a", Payload: payload(256 << 10),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, exact.StatusCode())

	over, err := b.client.PublishMessageWithResponse(t.Context(), "acme", client.MessageInput{
		EventType: "a", Payload: payload(256<<10 + 1),
	})
	require.NoError(t, err)
	p := requireProblem(t, over, http.StatusRequestEntityTooLarge, "payload-too-large", "")
	require.Contains(t, p.Detail, "262144 bytes")
}

func TestGetMessage(t *testing.T) {
	t.Parallel()

	b, _ := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	e1 := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/one"})
	e2 := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/two"})
	published := b.publish(t, invoicePaid("evt-1"))

	res, err := b.client.GetMessageWithResponse(t.Context(), "acme", published.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

	m := *res.JSON200
	require.Equal(t, published.Id, m.Id)
	require.Equal(t, "acme", m.TenantId)
	require.Equal(t, "invoice.paid", m.EventType)
	require.Equal(t, new("evt-1"), m.EventId)
	require.JSONEq(t, string(invoicePaid("").Payload), string(m.Payload))
	require.True(t, published.CreatedAt.Equal(m.CreatedAt))
	require.Len(t, m.Deliveries, 2)

	wantIDs := []string{e1.Id, e2.Id}
	slices.Sort(wantIDs)

	require.Empty(t, m.Replays)
	require.Contains(t, string(res.Body), `"replays":[]`)

	for i, d := range m.Deliveries {
		require.Equal(t, published.Id, d.MessageId)
		require.Equal(t, wantIDs[i], d.EndpointId)
		require.Equal(t, "invoice.paid", d.EventType)
		require.Zero(t, d.Round)
		require.Equal(t, client.DeliveryStatusPending, d.Status)
		require.Zero(t, d.Attempts)
		require.Nil(t, d.NextAttemptAt)
		require.Nil(t, d.Reason)
		require.True(t, published.CreatedAt.Equal(d.UpdatedAt))
	}

	// An attempt shows in the delivery.
	a := b.recordAttempt(t, published.Id, e1.Id, 3, false)

	res, err = b.client.GetMessageWithResponse(t.Context(), "acme", published.Id)
	require.NoError(t, err)

	i := slices.IndexFunc(res.JSON200.Deliveries, func(d client.Delivery) bool { return d.EndpointId == e1.Id })
	d := res.JSON200.Deliveries[i]
	require.Equal(t, 4, d.Attempts)
	require.NotNil(t, d.NextAttemptAt)
	require.True(t, a.NextAttemptAt.Equal(*d.NextAttemptAt))
	require.Equal(t, client.DeliveryStatusPending, d.Status)

	t.Run("not found", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct{ tenantID, id string }{
			{"acme", unknownMessageID},
			{"other", published.Id},
			{"ghost", published.Id},
		} {
			res, err := b.client.GetMessageWithResponse(t.Context(), tt.tenantID, tt.id)
			require.NoError(t, err)
			p := requireProblem(t, res, http.StatusNotFound, "not-found", "")
			require.Contains(t, p.Detail, tt.id)
			require.NotNil(t, res.ApplicationproblemJSON404)
		}
	})

	t.Run("bad id", func(t *testing.T) {
		t.Parallel()

		for _, id := range []string{"nope", unknownEndpointID, "msg_", "msg_01JBQ6Q6FFE5X9QF2A8N1C3M4Z"} {
			res, err := b.client.GetMessageWithResponse(t.Context(), "acme", id)
			require.NoError(t, err)
			requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "message_id")
		}
	})

	t.Run("bad tenant id", func(t *testing.T) {
		t.Parallel()

		res := b.do(t, http.MethodGet, "/v1/tenants/a%20b/messages/"+published.Id, "")
		requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "tenant_id")
	})
}

func TestListMessageAttempts(t *testing.T) {
	t.Parallel()

	b, _ := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	e1 := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/one"})
	e2 := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/two"})
	m := b.publish(t, invoicePaid(""))
	quiet := b.publish(t, invoicePaid(""))

	made := make([]messages.Attempt, 0, 5)
	for n := range 5 {
		made = append(made, b.recordAttempt(t, m.Id, []string{e1.Id, e2.Id}[n%2], n, n == 4))
	}

	// Page through with a limit of 2: 2, 2, then 1 without a cursor.
	var (
		got    []string
		cursor *string
		pages  int
	)

	for {
		res, err := b.client.ListMessageAttemptsWithResponse(t.Context(), "acme", m.Id,
			&client.ListMessageAttemptsParams{Limit: new(2), Cursor: cursor})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

		pages++
		got = append(got, attemptIDs(res.JSON200.Data)...)

		if pages < 3 {
			require.Len(t, res.JSON200.Data, 2)
			require.NotNil(t, res.JSON200.NextCursor)
		} else {
			require.Len(t, res.JSON200.Data, 1)
			require.Nil(t, res.JSON200.NextCursor)
			require.NotContains(t, string(res.Body), "next_cursor")

			break
		}

		cursor = res.JSON200.NextCursor
	}

	require.Equal(t, newestFirst(made...), got)

	t.Run("fields", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListMessageAttemptsWithResponse(t.Context(), "acme", m.Id, nil)
		require.NoError(t, err)
		require.Len(t, res.JSON200.Data, 5)
		require.Nil(t, res.JSON200.NextCursor)

		ok, failed := res.JSON200.Data[0], res.JSON200.Data[1]
		require.Equal(t, client.Attempt{
			Id:           made[4].ID,
			MessageId:    m.Id,
			EndpointId:   e1.Id,
			Attempt:      5,
			StartedAt:    ok.StartedAt,
			DurationMs:   1.5,
			StatusCode:   new(200),
			ResponseBody: new("ok"),
			Succeeded:    true,
		}, ok)
		require.True(t, made[4].StartedAt.Equal(ok.StartedAt))

		require.False(t, failed.Succeeded)
		require.Equal(t, new(503), failed.StatusCode)
		require.Equal(t, new("the endpoint answered 503 Service Unavailable"), failed.Error)
		require.Equal(t, new("busy \uFFFD"), failed.ResponseBody, "invalid UTF-8 is replaced")
		require.NotNil(t, failed.NextAttemptAt)
		require.True(t, made[3].NextAttemptAt.Equal(*failed.NextAttemptAt))
	})

	t.Run("message without attempts", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListMessageAttemptsWithResponse(t.Context(), "acme", quiet.Id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		require.Empty(t, res.JSON200.Data)
		require.Contains(t, string(res.Body), `"data":[]`)
	})

	t.Run("not found", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct{ tenantID, id string }{
			{"acme", unknownMessageID},
			{"other", m.Id},
		} {
			res, err := b.client.ListMessageAttemptsWithResponse(t.Context(), tt.tenantID, tt.id, nil)
			require.NoError(t, err)
			requireProblem(t, res, http.StatusNotFound, "not-found", "")
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()

		base := "/v1/tenants/acme/messages/" + m.Id + "/attempts"
		requireProblem(t, b.do(t, http.MethodGet, "/v1/tenants/acme/messages/nope/attempts", ""),
			http.StatusBadRequest, "invalid-parameter", "message_id")
		requireProblem(t, b.do(t, http.MethodGet, base+"?limit=0", ""), http.StatusBadRequest, "invalid-parameter", "limit")
		requireProblem(t, b.do(t, http.MethodGet, base+"?limit=251", ""), http.StatusBadRequest, "invalid-parameter", "limit")
		requireProblem(t, b.do(t, http.MethodGet, base+"?cursor=%21", ""), http.StatusBadRequest, "invalid-parameter", "cursor")
	})
}

func TestListEndpointAttempts(t *testing.T) {
	t.Parallel()

	b, _ := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "other", client.TenantInput{})

	var (
		e     = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/one"})
		other = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/two"})
		quiet = b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/three"})
		m1    = b.publish(t, invoicePaid(""))
		m2    = b.publish(t, invoicePaid(""))
	)

	// Three failures then a success for each message at e; n orders them.
	var succeeded, failed []messages.Attempt

	for n := range 8 {
		msg := []string{m1.Id, m2.Id}[n%2]
		ok := n >= 6

		a := b.recordAttempt(t, msg, e.Id, n, ok)
		if ok {
			succeeded = append(succeeded, a)
		} else {
			failed = append(failed, a)
		}
	}

	b.recordAttempt(t, m1.Id, other.Id, 20, false)

	list := func(t *testing.T, status *client.ListEndpointAttemptsParamsStatus, limit int, cursor *string) client.AttemptList {
		t.Helper()

		res, err := b.client.ListEndpointAttemptsWithResponse(t.Context(), "acme", e.Id,
			&client.ListEndpointAttemptsParams{Status: status, Limit: &limit, Cursor: cursor})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "body: %s", res.Body)

		for _, a := range res.JSON200.Data {
			require.Equal(t, e.Id, a.EndpointId)
		}

		return *res.JSON200
	}

	t.Run("all", func(t *testing.T) {
		t.Parallel()

		page := list(t, nil, 50, nil)
		require.Equal(t, newestFirst(slices.Concat(failed, succeeded)...), attemptIDs(page.Data))
		require.Nil(t, page.NextCursor)
	})

	t.Run("succeeded", func(t *testing.T) {
		t.Parallel()

		page := list(t, new(client.ListEndpointAttemptsParamsStatusSucceeded), 50, nil)
		require.Equal(t, newestFirst(succeeded...), attemptIDs(page.Data))
	})

	t.Run("failed, paged", func(t *testing.T) {
		t.Parallel()

		status := new(client.ListEndpointAttemptsParamsStatusFailed)

		first := list(t, status, 4, nil)
		require.Equal(t, newestFirst(failed...)[:4], attemptIDs(first.Data))
		require.NotNil(t, first.NextCursor)

		second := list(t, status, 4, first.NextCursor)
		require.Equal(t, newestFirst(failed...)[4:], attemptIDs(second.Data))
		require.Nil(t, second.NextCursor)
	})

	t.Run("endpoint without attempts", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListEndpointAttemptsWithResponse(t.Context(), "acme", quiet.Id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode())
		require.Empty(t, res.JSON200.Data)
	})

	t.Run("bad status", func(t *testing.T) {
		t.Parallel()

		// A bad query parameter is an invalid-parameter problem, as a bad
		// limit or cursor is.
		for _, status := range []string{"bogus", "SUCCEEDED", "pending"} {
			res, err := b.client.ListEndpointAttemptsWithResponse(t.Context(), "acme", e.Id,
				&client.ListEndpointAttemptsParams{Status: new(client.ListEndpointAttemptsParamsStatus(status))})
			require.NoError(t, err)
			requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "status")
		}
	})

	t.Run("not found", func(t *testing.T) {
		t.Parallel()

		for _, tt := range []struct{ tenantID, id string }{
			{"acme", unknownEndpointID},
			{"other", e.Id},
		} {
			res, err := b.client.ListEndpointAttemptsWithResponse(t.Context(), tt.tenantID, tt.id, nil)
			require.NoError(t, err)
			requireProblem(t, res, http.StatusNotFound, "not-found", "")
		}
	})

	t.Run("bad endpoint id", func(t *testing.T) {
		t.Parallel()

		res, err := b.client.ListEndpointAttemptsWithResponse(t.Context(), "acme", unknownMessageID, nil)
		require.NoError(t, err)
		requireProblem(t, res, http.StatusBadRequest, "invalid-parameter", "endpoint_id")
	})
}

// refusedURLs name destinations that the default egress policy refuses
// when the endpoint is registered.
var refusedURLs = []string{
	"http://127.0.0.1/hook",
	"http://127.0.0.1:8080/hook",
	"https://[::1]/hook",
	"http://10.1.2.3/hook",
	"http://192.168.1.1/hook",
	"http://169.254.169.254/latest/meta-data",
	"http://[::ffff:127.0.0.1]/hook",
	"http://localhost/hook",
	"http://LOCALHOST:9000/hook",
	"http://api.localhost/hook",
}

func TestCreateEndpointRefusedDestination(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	for _, u := range refusedURLs {
		t.Run(u, func(t *testing.T) {
			t.Parallel()

			res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{Url: u})
			require.NoError(t, err)
			p := requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "url")
			require.Contains(t, p.Detail, "not reachable")
			require.NotNil(t, res.ApplicationproblemJSON422)
		})
	}

	list, err := b.client.ListEndpointsWithResponse(t.Context(), "acme", nil)
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data)
}

func TestCreateEndpointNamedDestination(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})

	// A name other than localhost is checked when dialed, not now: what it
	// resolves to can change.
	for _, u := range []string{"http://hooks.internal/in", "https://8.8.8.8/in", "http://[2001:4860:4860::8888]/in"} {
		b.createEndpoint(t, "acme", client.EndpointInput{Url: u})
	}
}

func TestUpdateEndpointRefusedDestination(t *testing.T) {
	t.Parallel()

	b := setup(t)
	b.putTenant(t, "acme", client.TenantInput{})
	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})

	for _, u := range refusedURLs {
		res, err := b.client.UpdateEndpointWithResponse(t.Context(), "acme", ep.Id, client.EndpointPatch{Url: new(u)})
		require.NoError(t, err)
		requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "url")
	}

	got := mustGetEndpoint(t, b, "acme", ep.Id)
	require.Contains(t, string(got), `"url":"https://example.com/hooks"`)
}

func TestEndpointDestinationAllowed(t *testing.T) {
	t.Parallel()

	b, _ := setupPublish(t, publishOpts{
		egress: egress.NewPolicy([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}),
	})
	b.putTenant(t, "acme", client.TenantInput{})

	for _, u := range []string{"http://127.0.0.1:8080/hook", "http://127.9.9.9/hook", "http://localhost/hook"} {
		ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: u})
		require.Equal(t, u, ep.Url)
	}

	// Only the allowed network is: IPv6 loopback and private ranges stay
	// refused.
	for _, u := range []string{"http://[::1]/hook", "http://10.1.2.3/hook", "http://[::ffff:10.1.2.3]/hook"} {
		res, err := b.client.CreateEndpointWithResponse(t.Context(), "acme", client.EndpointInput{Url: u})
		require.NoError(t, err)
		requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "url")
	}

	ep := b.createEndpoint(t, "acme", client.EndpointInput{Url: "https://example.com/hooks"})
	moved := b.patchEndpoint(t, "acme", ep.Id, client.EndpointPatch{Url: new("http://127.0.0.1:9999/in")})
	require.Equal(t, "http://127.0.0.1:9999/in", moved.Url)

	res, err := b.client.UpdateEndpointWithResponse(t.Context(), "acme", ep.Id, client.EndpointPatch{
		Url: new("http://10.0.0.1/in"),
	})
	require.NoError(t, err)
	requireProblem(t, res, http.StatusUnprocessableEntity, "validation", "url")
}

// TestPublishNotHeldUpByALockedTenant holds the row of a tenant, as its
// deletion would, while messages are published to it and to another
// tenant: the other tenant's publish is answered while the row is still
// held, and the held one once it is let go.
func TestPublishNotHeldUpByALockedTenant(t *testing.T) {
	t.Parallel()

	b, _ := setupPublish(t, publishOpts{})
	b.putTenant(t, "acme", client.TenantInput{})
	b.putTenant(t, "slow", client.TenantInput{})

	tx, err := b.db.Pool.Begin(t.Context())
	require.NoError(t, err)

	_, err = tx.Exec(t.Context(), "SELECT 1 FROM tenants WHERE id = 'slow' FOR UPDATE")
	require.NoError(t, err)

	held := make(chan int, 1)
	go func() {
		res, err := b.client.PublishMessageWithResponse(context.Background(), "slow", invoicePaid(""))
		if err != nil {
			held <- 0
			return
		}

		held <- res.StatusCode()
	}()

	// Give the held publish the time to take the batch it waits in.
	time.Sleep(50 * time.Millisecond)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	res, err := b.client.PublishMessageWithResponse(ctx, "acme", invoicePaid(""))
	require.NoError(t, err, "the publish to acme waited for slow's row")
	require.Equal(t, http.StatusAccepted, res.StatusCode(), string(res.Body))

	select {
	case status := <-held:
		t.Fatalf("the publish to slow did not wait for its row: %d", status)
	default:
	}

	require.NoError(t, tx.Rollback(t.Context()))
	require.Equal(t, http.StatusAccepted, <-held)
}
