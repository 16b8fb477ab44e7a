// Package storetest is the behavioral contract of [store.Store]: one suite
// of tests that every storage backend of Herald passes. A backend's test
// calls [Run] with a function that opens a fresh, migrated, empty database
// and a store on it whose enqueue function reports to a [Recorder]:
//
//	func TestContract(t *testing.T) {
//		t.Parallel()
//
//		storetest.Run(t, func(t *testing.T) storetest.Harness {
//			rec := storetest.NewRecorder()
//			s := postgres.New(testdb.New(t).Pool).WithEnqueue(storetest.Enqueuer[pgx.Tx]{Recorder: rec})
//
//			return rec.Harness(s)
//		})
//	}
//
// The tests talk to the store only through [store.Store], so they hold for
// every database alike.
package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/store"
)

// Harness is one fresh, migrated, empty database behind a store.
type Harness struct {
	// Store publishes through an enqueue function that records, per call,
	// the message id and endpoint ids, and can be told to fail.
	Store store.Store

	// Enqueued returns the enqueue calls recorded so far, oldest first.
	Enqueued func() []Enqueue

	// FailEnqueue makes the next enqueue calls return an error, or succeed
	// again when fail is false.
	FailEnqueue func(fail bool)
}

// Enqueue is one call of a store's enqueuer: the delivery jobs it queued,
// or the job of one recovery.
type Enqueue struct {
	Refs       []messages.Ref
	RecoveryID string
}

// ErrEnqueue is what a [Recorder] told to fail returns.
var ErrEnqueue = errors.New("storetest: enqueue failed")

// Recorder keeps the enqueue calls of one store. A backend's enqueue
// function calls [Recorder.Record]; [Recorder.Harness] wires the recorder
// into a [Harness]. It is safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []Enqueue
	fail  bool
}

// NewRecorder returns a recorder with no calls that does not fail.
func NewRecorder() *Recorder {
	return &Recorder{}
}

// Record notes a call. It returns [ErrEnqueue] after [Recorder.Fail] was
// called with true, and nil otherwise; failing calls are recorded too.
func (r *Recorder) Record(call Enqueue) error {
	r.mu.Lock()
	defer r.mu.Unlock()

	call.Refs = slices.Clone(call.Refs)
	r.calls = append(r.calls, call)

	if r.fail {
		return ErrEnqueue
	}

	return nil
}

// Enqueuer is the enqueuer of a backend whose transactions are of type
// TTx, recording its calls in a [Recorder]. Recovery jobs get ids 1, 2, 3...
type Enqueuer[TTx any] struct {
	*Recorder
}

// EnqueueDeliveries records refs.
func (e Enqueuer[TTx]) EnqueueDeliveries(_ context.Context, _ TTx, refs []messages.Ref) error {
	return e.Record(Enqueue{Refs: refs})
}

// EnqueueRecovery records the recovery job and returns its id.
func (e Enqueuer[TTx]) EnqueueRecovery(_ context.Context, _ TTx, recoveryID string) (int64, error) {
	if err := e.Record(Enqueue{RecoveryID: recoveryID}); err != nil {
		return 0, err
	}

	return int64(len(e.Calls())), nil
}

// Calls returns the calls recorded so far, oldest first.
func (r *Recorder) Calls() []Enqueue {
	r.mu.Lock()
	defer r.mu.Unlock()

	return slices.Clone(r.calls)
}

// Fail makes the next calls of [Recorder.Record] fail, or succeed again
// when fail is false.
func (r *Recorder) Fail(fail bool) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.fail = fail
}

// Harness returns the harness of s, a store whose enqueue function calls
// r's [Recorder.Record].
func (r *Recorder) Harness(s store.Store) Harness {
	return Harness{Store: s, Enqueued: r.Calls, FailEnqueue: r.Fail}
}

// Run runs every contract test against stores made by open, each test with
// its own [Harness]. The tests run in parallel, so open may be called from
// several goroutines at once. Subtests are named by resource and
// behavior, such as "tenants/put creates then updates".
func Run(t *testing.T, open func(t *testing.T) Harness) {
	t.Helper()

	s := suite{open: open}

	t.Run("ping", s.ping)
	t.Run("tenants", s.tenants)
	t.Run("endpoints", s.endpoints)
	t.Run("messages", s.messages)
	t.Run("deliveries", s.deliveries)
	t.Run("attempts", s.attempts)
	t.Run("api keys", s.apiKeys)
	t.Run("search", s.search)
	t.Run("health", s.health)
	t.Run("replays", s.replays)
	t.Run("sessions", s.sessions)
}

// suite holds what every contract test needs: a way to open a store.
type suite struct {
	open func(t *testing.T) Harness
}

// bundle is one test's harness, with helpers that fill its store.
type bundle struct {
	Harness
}

func (s suite) setup(t *testing.T) *bundle {
	t.Helper()

	h := s.open(t)
	require.NotNil(t, h.Store, "open returned no store")
	require.NotNil(t, h.Enqueued, "open returned no Enqueued")
	require.NotNil(t, h.FailEnqueue, "open returned no FailEnqueue")

	return &bundle{Harness: h}
}

func (s suite) ping(t *testing.T) {
	t.Parallel()

	b := s.setup(t)
	require.NoError(t, b.Store.Ping(t.Context()))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.Error(t, b.Store.Ping(ctx))
}

// lookup names a resource by its tenant and id.
type lookup struct {
	name     string
	tenantID string
	id       string
}

// missing returns the lookups that find nothing when id names a resource
// of the tenant acme and the tenant other exists: through another tenant,
// through an unknown one, of an id never stored and of an empty id.
func missing(id, neverStored string) []lookup {
	return []lookup{
		{name: "another tenant's", tenantID: other, id: id},
		{name: "unknown tenant", tenantID: unknown, id: id},
		{name: "unknown id", tenantID: acme, id: neverStored},
		{name: "empty id", tenantID: acme, id: ""},
	}
}

// EnqueueFunc is an enqueuer made of one function, which queues delivery
// jobs; it queues recovery jobs as job 1 without a call. Tests of one
// backend use it to watch or fail what a store queues.
type EnqueueFunc[TTx any] func(ctx context.Context, tx TTx, refs []messages.Ref) error

// EnqueueDeliveries calls f.
func (f EnqueueFunc[TTx]) EnqueueDeliveries(ctx context.Context, tx TTx, refs []messages.Ref) error {
	return f(ctx, tx, refs)
}

// EnqueueRecovery returns job id 1.
func (f EnqueueFunc[TTx]) EnqueueRecovery(context.Context, TTx, string) (int64, error) {
	return 1, nil
}
