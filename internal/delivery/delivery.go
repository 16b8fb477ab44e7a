// Package delivery sends published messages to endpoints: the River job of
// one delivery, the signed HTTP request, and what each outcome does to the
// delivery and the endpoint.
package delivery

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/heraldhq/herald/internal/batch"
	"github.com/heraldhq/herald/internal/breaker"
	"github.com/heraldhq/herald/internal/egress"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/retry"
)

// Queue is the River queue of deliveries.
const Queue = "deliveries"

// Defaults of [Config].
const (
	defaultTimeout = 15 * time.Second
	defaultJitter  = 0.2
)

// Args is the River job of one delivery: message MessageID to endpoint
// EndpointID, in round Round of the delivery.
type Args struct {
	MessageID  string `json:"message_id"`
	EndpointID string `json:"endpoint_id"`
	Round      int    `json:"round,omitempty"`

	// Due, when set, is when the job may make its attempt: a job queued
	// ahead of its delivery's next attempt waits until then.
	Due time.Time `json:"due,omitzero"`
}

// Kind names the job in River.
func (Args) Kind() string { return "deliver" }

// InsertOpts puts deliveries on their own queue. Herald counts delivery
// attempts itself and snoozes between them; River's attempts only count
// faults of Herald's own, such as the database being unreachable.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 25}
}

// Store is what delivering needs of the database.
type Store interface {
	LoadTargets(
		ctx context.Context, keys []messages.DeliveryKey,
	) (map[messages.DeliveryKey]messages.Target, error)
	RecordAttempts(ctx context.Context, records []messages.Record, refs []messages.Ref) error
	FailDelivery(ctx context.Context, f messages.Failure) error
	RecordGone(ctx context.Context, a messages.Attempt, reason string) error
}

// Config configures [NewWorker].
type Config struct {
	// Store reads targets and records attempts. Required.
	Store Store

	// Breakers guard each endpoint. Required.
	Breakers *breaker.Registry

	// Egress decides which addresses may be dialed. Required.
	Egress *egress.Policy

	// Schedule is the wait before each retry. Defaults to
	// [retry.DefaultSchedule].
	Schedule retry.Schedule

	// Jitter spreads each wait by up to this fraction either way.
	// Defaults to 0.2; negative means none.
	Jitter float64

	// Timeout bounds one HTTP attempt, from dialing to the last byte read.
	// Defaults to 15s.
	Timeout time.Duration

	// UserAgent is sent with every webhook. Required.
	UserAgent string

	// Logger receives one line per failed attempt and per endpoint
	// disabled. Required.
	Logger *slog.Logger
}

// Worker delivers one message to one endpoint per job.
type Worker struct {
	river.WorkerDefaults[Args]

	cfg     Config
	client  *resty.Client
	loads   *batch.Batcher[messages.DeliveryKey, loaded]
	records *batch.Batcher[messages.Record, error]
}

// NewWorker returns the worker of [Args] jobs.
func NewWorker(cfg Config) *Worker {
	if len(cfg.Schedule) == 0 {
		cfg.Schedule = retry.DefaultSchedule
	}

	switch {
	case cfg.Jitter == 0:
		cfg.Jitter = defaultJitter
	case cfg.Jitter < 0:
		cfg.Jitter = 0
	}

	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}

	w := &Worker{cfg: cfg, client: newClient(cfg)}
	opts := batch.Opts{MaxSize: maxBatch, Concurrency: batchConcurrency, Timeout: bookkeeping}
	w.loads = batch.New(w.loadBatch, opts)
	w.records = batch.New(w.recordBatch, opts)

	return w
}

// bookkeeping is the time a job has beside its HTTP attempt, to load the
// delivery and record the attempt.
const bookkeeping = 10 * time.Second

// Timeout gives a job time for one attempt and its bookkeeping.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration {
	return JobTimeout(w.cfg.Timeout)
}

// JobTimeout is the longest a delivery job runs when one attempt may take
// attemptTimeout.
func JobTimeout(attemptTimeout time.Duration) time.Duration {
	return cmp.Or(attemptTimeout, defaultTimeout) + bookkeeping
}

// Work makes one attempt of the delivery, unless it is over, its endpoint
// is gone or disabled, or its endpoint's breaker holds it back.
//
// An error is a fault of Herald's own, and River runs the job again. After
// the job's last run River discards it, so Work then gives the delivery up
// on record: no delivery stays pending with nothing left to send it.
func (w *Worker) Work(ctx context.Context, job *river.Job[Args]) error {
	err := w.work(ctx, job)
	if !finalFault(ctx, job.JobRow, err) {
		return err
	}

	w.giveUp(ctx, messages.Failure{
		MessageID: job.Args.MessageID, EndpointID: job.Args.EndpointID, Round: job.Args.Round,
	}, job.Attempt, err)

	return err
}

// finalFault reports whether err, the outcome of a run of job, is a fault
// of Herald's own in the job's last run, after which River discards it:
// not a snooze, and not a run cut short by Herald stopping.
func finalFault(ctx context.Context, job *rivertype.JobRow, err error) bool {
	if err == nil || job.Attempt < job.MaxAttempts || ctx.Err() != nil {
		return false
	}

	_, snoozed := errors.AsType[*river.JobSnoozeError](err)

	return !snoozed
}

// giveUp fails the delivery f names, in the state f says, whose job River
// is about to discard after its last run failed with err.
func (w *Worker) giveUp(ctx context.Context, f messages.Failure, runs int, err error) {
	attrs := []any{
		slog.String("endpoint_id", f.EndpointID),
		slog.String("message_id", f.MessageID),
		slog.Int("attempt", runs),
		slog.String("error", err.Error()),
	}

	f.Reason = fmt.Sprintf("gave up after %d faults of Herald's own; its log says why", runs)
	if ferr := w.cfg.Store.FailDelivery(ctx, f); ferr != nil {
		w.cfg.Logger.ErrorContext(ctx, "delivery left pending: it cannot be given up",
			append(attrs, slog.String("fail_error", ferr.Error()))...)

		return
	}

	w.cfg.Logger.ErrorContext(ctx, "delivery given up after faults of Herald's own", attrs...)
}

// work is [Worker.Work] but for giving up after the last run.
func (w *Worker) work(ctx context.Context, job *river.Job[Args]) error {
	if wait := time.Until(job.Args.Due); wait > 0 {
		return river.JobSnooze(wait)
	}

	// The endpoint's guards would refuse the attempt: wait without loading.
	if wait, held := w.cfg.Breakers.Held(job.Args.EndpointID); held {
		return river.JobSnooze(wait)
	}

	t, err := w.load(ctx, job.Args.MessageID, job.Args.EndpointID)
	if errors.Is(err, messages.ErrNotFound) {
		return nil // the message or the endpoint was deleted
	}

	if err != nil {
		return err //nolint:wrapcheck // already wrapped; River retries
	}

	if t.Delivery.Status != messages.StatusPending || t.Delivery.Round != job.Args.Round {
		return nil // over, or replayed: the job of the new round sends it
	}

	// A run after a fault of Herald's own may find the attempt it was
	// recording stored after all: its next attempt waits its turn.
	if wait := time.Until(t.Delivery.NextAttemptAt); job.Attempt > 1 && wait > 0 {
		return river.JobSnooze(wait)
	}

	if t.Endpoint.Disabled {
		return w.cfg.Store.FailDelivery(ctx, messages.Failure{ //nolint:wrapcheck // wrapped
			MessageID: t.Delivery.MessageID, EndpointID: t.Endpoint.ID, Round: t.Delivery.Round,
			Reason: "endpoint disabled: " + t.Endpoint.DisabledReason,
		})
	}

	release, wait, err := w.cfg.Breakers.Acquire(ctx, t.Endpoint.ID)
	if err != nil {
		return river.JobSnooze(wait)
	}

	res := w.send(ctx, t)
	release(res.healthy())

	if ctx.Err() != nil && res.err != nil {
		// Herald is stopping: this try says nothing of the endpoint.
		return river.JobSnooze(0)
	}

	return w.record(ctx, t, res)
}

// record stores the attempt and decides what comes next.
func (w *Worker) record(ctx context.Context, t messages.Target, res result) error {
	o, err := w.decide(ctx, t, res)
	if err != nil {
		return err
	}

	if o.gone {
		return w.gone(ctx, t, o.record.Attempt)
	}

	a := o.record.Attempt

	err = w.recordAttempt(ctx, a, o.record.Status, o.record.Reason)
	if errors.Is(err, messages.ErrNotFound) {
		return nil // the delivery was deleted meanwhile
	}

	if err != nil {
		return err //nolint:wrapcheck // wrapped
	}

	if o.record.Status != messages.StatusPending {
		return nil
	}

	// The wait runs from the end of this try; JobSnooze refuses a
	// negative duration, so a zero wait that has already passed is 0.
	return river.JobSnooze(max(0, time.Until(a.NextAttemptAt)))
}

// outcome is what one attempt comes to: the record to store, with the
// delivery's next attempt time when it is tried again, or, for 410 Gone,
// the endpoint to disable.
type outcome struct {
	record messages.Record
	gone   bool
}

// decide turns the result of an attempt into its outcome, and logs a
// failed one.
func (w *Worker) decide(ctx context.Context, t messages.Target, res result) (outcome, error) {
	a, err := res.attempt(t)
	if err != nil {
		return outcome{}, err
	}

	switch {
	case a.Succeeded:
		return outcome{record: messages.Record{Attempt: a, Status: messages.StatusSucceeded}}, nil
	case a.StatusCode == http.StatusGone:
		o := outcome{record: messages.Record{Attempt: a, Status: messages.StatusFailed}, gone: true}
		return o, nil
	}

	wait, ok := w.cfg.Schedule.Next(a.Number-t.Delivery.RoundStart, w.cfg.Jitter, nil)
	if ok && res.retryAfter > 0 {
		wait = res.retryAfter
	}

	w.cfg.Logger.InfoContext(ctx, "delivery attempt failed",
		slog.String("tenant_id", t.Endpoint.TenantID),
		slog.String("endpoint_id", t.Endpoint.ID),
		slog.String("message_id", t.Delivery.MessageID),
		slog.Int("attempt", a.Number),
		slog.Int("status_code", a.StatusCode),
		slog.String("error", a.Error))

	if !ok {
		reason := fmt.Sprintf("gave up after %d attempts", a.Number-t.Delivery.RoundStart)
		failed := messages.Record{Attempt: a, Status: messages.StatusFailed, Reason: reason}
		return outcome{record: failed}, nil
	}

	// To the microsecond, as the database keeps it, so that the job of the
	// next attempt starts when the delivery says.
	a.NextAttemptAt = a.StartedAt.Add(a.Duration + wait).Truncate(time.Microsecond)

	return outcome{record: messages.Record{Attempt: a, Status: messages.StatusPending}}, nil
}

// gone disables an endpoint that answered 410 Gone and ends its pending
// deliveries: the receiver said it will never take webhooks again.
func (w *Worker) gone(ctx context.Context, t messages.Target, a messages.Attempt) error {
	const reason = "the endpoint answered 410 Gone"
	if err := w.cfg.Store.RecordGone(ctx, a, reason); err != nil {
		return err //nolint:wrapcheck // wrapped
	}

	w.cfg.Logger.WarnContext(ctx, "endpoint disabled",
		slog.String("tenant_id", t.Endpoint.TenantID),
		slog.String("endpoint_id", t.Endpoint.ID),
		slog.Int("status_code", a.StatusCode))

	return nil
}
