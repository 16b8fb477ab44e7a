package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/heraldhq/herald/internal/messages"
)

// FirstsArgs is the River job of the first attempts of several messages to
// one endpoint, queued together by one publish. Sharing one job spares the
// queue a job per delivery: most deliveries succeed at their first
// attempt. A delivery whose first attempt fails goes on in a job of its
// own ([Args]).
type FirstsArgs struct {
	EndpointID string   `json:"endpoint_id"`
	MessageIDs []string `json:"message_ids"`
}

// Kind names the job in River.
func (FirstsArgs) Kind() string { return "deliver_firsts" }

// InsertOpts puts the job on the queue of deliveries, with as many runs for
// Herald's own faults as a delivery job.
func (FirstsArgs) InsertOpts() river.InsertOpts {
	return Args{}.InsertOpts()
}

// FirstsWorker works [FirstsArgs] jobs with the settings of a [Worker].
type FirstsWorker struct {
	river.WorkerDefaults[FirstsArgs]

	w *Worker
}

// Firsts returns the worker of the jobs that make first attempts together,
// sharing w's client, breakers and batches.
func (w *Worker) Firsts() *FirstsWorker {
	return &FirstsWorker{w: w}
}

// Timeout gives the job time for its attempts, made at once, and their
// bookkeeping.
func (f *FirstsWorker) Timeout(*river.Job[FirstsArgs]) time.Duration {
	return JobTimeout(f.w.cfg.Timeout)
}

// Work makes the first attempt of each delivery of the job that is still
// pending and untried, all at once within the endpoint's in-flight limit,
// then stores every attempt and queues a job for each delivery to try
// again, at its next attempt, in one transaction.
//
// When the endpoint's guards hold some deliveries back, the job waits as
// long as they say (a snooze, which spends none of its runs) and then
// sends those, the others being tried already. When a run fails (a fault
// of Herald's own) River runs the job again, and it sends what is still
// untried: those whose attempts were not stored are sent twice.
func (f *FirstsWorker) Work(ctx context.Context, job *river.Job[FirstsArgs]) error {
	w := f.w
	if wait, held := w.cfg.Breakers.Held(job.Args.EndpointID); held {
		return river.JobSnooze(wait)
	}

	targets, err := w.untried(ctx, job.Args)
	if err != nil {
		return w.lastRun(ctx, job, err)
	}

	var p plan

	for i, res := range w.sendAll(ctx, targets) {
		if err := p.add(ctx, w, targets[i], res); err != nil {
			return w.lastRun(ctx, job, err)
		}
	}

	if err := w.store(ctx, p); err != nil {
		return w.lastRun(ctx, job, err)
	}

	if p.held > 0 {
		return river.JobSnooze(p.wait)
	}

	return nil
}

// untried loads the deliveries of the job and keeps those still pending in
// their first round without an attempt. Those whose endpoint is disabled
// are given up.
func (w *Worker) untried(ctx context.Context, args FirstsArgs) ([]messages.Target, error) {
	keys := make([]messages.DeliveryKey, len(args.MessageIDs))
	for i, id := range args.MessageIDs {
		keys[i] = messages.DeliveryKey{MessageID: id, EndpointID: args.EndpointID}
	}

	loaded, err := w.cfg.Store.LoadTargets(ctx, keys)
	if err != nil {
		return nil, err //nolint:wrapcheck // already wrapped; River retries
	}

	targets := make([]messages.Target, 0, len(keys))

	for _, k := range keys {
		t, ok := loaded[k]
		d := t.Delivery
		if !ok || d.Status != messages.StatusPending || d.Round != 0 || d.Attempts > 0 {
			continue // deleted, over, replayed, or gone on in a job of its own
		}

		if t.Endpoint.Disabled {
			f := untried(k)
			f.Reason = "endpoint disabled: " + t.Endpoint.DisabledReason

			if err := w.cfg.Store.FailDelivery(ctx, f); err != nil {
				return nil, err //nolint:wrapcheck // already wrapped; River retries
			}

			continue
		}

		targets = append(targets, t)
	}

	return targets, nil
}

// untried returns the failure of the delivery k while it is the job's: in
// its first round, with no attempt yet. One with an attempt, or replayed,
// has gone on in a job of its own, which gives it up itself if need be.
func untried(k messages.DeliveryKey) messages.Failure {
	return messages.Failure{MessageID: k.MessageID, EndpointID: k.EndpointID, Untried: true}
}

// firstsPatience is how long an attempt of a [FirstsArgs] job waits for a
// slot of its endpoint while the endpoint keeps answering: the job sends
// its messages in turns rather than handing those beyond the in-flight
// limit to jobs of their own. It leaves the job time for its last attempt
// and the bookkeeping.
const firstsPatience = bookkeeping / 2

// sent is what became of one delivery of a [FirstsArgs] job: the result of
// its attempt, or how long its endpoint's guards said to wait instead.
type sent struct {
	res  result
	held bool
	wait time.Duration
}

// sendAll makes the attempts of targets at once, each as soon as its
// endpoint's guards let it, and returns what became of each, in order.
func (w *Worker) sendAll(ctx context.Context, targets []messages.Target) []sent {
	out := make([]sent, len(targets))

	var wg sync.WaitGroup

	for i, t := range targets {
		wg.Go(func() {
			release, wait, err := w.cfg.Breakers.AcquireWithin(ctx, t.Endpoint.ID, firstsPatience)
			if err != nil {
				out[i] = sent{held: true, wait: wait}
				return
			}

			res := w.send(ctx, t)
			release(res.healthy())

			if ctx.Err() != nil && res.err != nil {
				// Herald is stopping: this try says nothing of the endpoint.
				out[i] = sent{held: true}
				return
			}

			out[i] = sent{res: res}
		})
	}

	wg.Wait()

	return out
}

// plan is what a [FirstsArgs] job stores once its attempts are over, and
// what it waits for.
type plan struct {
	records []messages.Record
	refs    []messages.Ref

	// held counts the deliveries the endpoint's guards held back; wait is
	// the shortest wait they gave.
	held int
	wait time.Duration

	// gone holds the attempts answered 410 Gone, with their targets.
	gone []goneAttempt
}

// goneAttempt is an attempt answered 410 Gone.
type goneAttempt struct {
	target  messages.Target
	attempt messages.Attempt
}

// add puts what became of the delivery to t into the plan.
func (p *plan) add(ctx context.Context, w *Worker, t messages.Target, s sent) error {
	if s.held {
		if p.held == 0 || s.wait < p.wait {
			p.wait = s.wait
		}

		p.held++

		return nil
	}

	o, err := w.decide(ctx, t, s.res)
	if err != nil {
		return err
	}

	switch {
	case o.gone:
		p.gone = append(p.gone, goneAttempt{target: t, attempt: o.record.Attempt})
	case o.record.Status == messages.StatusPending:
		p.records = append(p.records, o.record)
		p.refs = append(p.refs, messages.Ref{
			MessageID: t.Delivery.MessageID, EndpointID: t.Endpoint.ID, At: o.record.Attempt.NextAttemptAt,
		})
	default:
		p.records = append(p.records, o.record)
	}

	return nil
}

// store writes the plan: the attempts and the jobs that follow them in one
// transaction, or, should that fail, each attempt with its job alone (see
// [Worker.storeRecords]). Then it disables the endpoints that answered 410.
func (w *Worker) store(ctx context.Context, p plan) error {
	var errs []error

	for _, err := range w.storeRecords(ctx, p.records, p.refs) {
		if !errors.Is(err, messages.ErrNotFound) { // a delivery deleted needs nothing
			errs = append(errs, err)
		}
	}

	if err := errors.Join(errs...); err != nil {
		return err //nolint:wrapcheck // already wrapped; River retries
	}

	for _, g := range p.gone {
		if err := w.gone(ctx, g.target, g.attempt); err != nil {
			return err
		}
	}

	return nil
}

// lastRun returns err, the outcome of a run of job; when that run was the
// job's last and failed, it first gives up every delivery the job still
// owns, untried in its first round, so that none stays pending with no
// job to send it. A delivery with an attempt on record has gone on in a
// job of its own, which gives it up itself if need be.
func (w *Worker) lastRun(ctx context.Context, job *river.Job[FirstsArgs], err error) error {
	if !finalFault(ctx, job.JobRow, err) {
		return err
	}

	for _, id := range job.Args.MessageIDs {
		k := messages.DeliveryKey{MessageID: id, EndpointID: job.Args.EndpointID}
		w.giveUp(ctx, untried(k), job.Attempt, err)
	}

	return err
}
