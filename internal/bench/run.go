package bench

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/client"
)

// Kinds of database in [Result].
const (
	dbPostgres = "postgres"
	dbSQLite   = "sqlite"
	dbUnknown  = "unknown"
)

// runner makes one run: the Herald under test, the receiver, and the
// tenant whose endpoints are the receiver's inboxes.
type runner struct {
	opts Options
	spec spec

	rec    *receiver
	herald *herald
	api    *client.ClientWithResponses
	db     string

	// http carries api; its idle connections are closed before Herald
	// stops, which would otherwise wait for those that never carried a
	// request.
	http *http.Client

	// tenant owns the run's endpoints; healthy and hanging name the inboxes
	// behind them, hangingIDs the hanging endpoints.
	tenant     string
	healthy    []string
	hanging    []string
	hangingIDs []string

	res Result
}

// runSpec makes the run s with a new receiver and, unless opts names a
// running Herald, a new herald serve whose files go under tmp.
func runSpec(ctx context.Context, opts Options, s spec, tmp string) (Result, error) {
	rec, err := newReceiver(ctx)
	if err != nil {
		return Result{}, err
	}
	defer rec.close()

	r := &runner{opts: opts, spec: s, rec: rec}

	err = r.startHerald(ctx, tmp)
	if r.herald != nil {
		defer r.stopHerald() // on the way out of a failed run; a no-op after
	}

	if err != nil {
		return Result{}, err
	}

	if err := r.setup(ctx); err != nil {
		return Result{}, err
	}

	r.measure(ctx)
	r.cleanup(ctx)

	r.opts.progressf(s, "delivered %d of %d; stopping herald", r.res.Delivered, r.res.Expected)
	r.stopHerald()

	r.opts.progressf(s, "baseline: %d requests", r.res.Expected)
	r.runBaseline(ctx)

	return r.res, nil
}

// stopHerald stops the Herald of the run, once, after letting its hanging
// attempts go so that it need not wait for them.
func (r *runner) stopHerald() {
	if r.http != nil {
		r.http.CloseIdleConnections()
	}

	r.rec.letGo()
	r.note(r.herald.stop())
}

// startHerald starts herald serve on the run's database, or connects to
// the running Herald of the options.
func (r *runner) startHerald(ctx context.Context, tmp string) error {
	var database string

	switch {
	case r.opts.URL != "":
		r.herald, r.db = &herald{url: r.opts.URL, key: r.opts.Key}, dbUnknown
	case r.spec.sqlite || r.opts.Database == "":
		database, r.db = "sqlite://"+filepath.Join(tmp, r.spec.name+".db"), dbSQLite
	case strings.HasPrefix(r.opts.Database, "sqlite://"):
		database, r.db = r.opts.Database, dbSQLite
	default:
		database, r.db = r.opts.Database, dbPostgres
	}

	if r.db == dbPostgres {
		r.opts.progressf(r.spec, "vacuuming the database")

		if err := vacuum(ctx, database); err != nil {
			return err
		}
	}

	if r.herald == nil {
		r.opts.progressf(r.spec, "starting %s on %s", r.opts.Herald, r.db)

		h, err := startHerald(ctx, heraldParams{
			bin: r.opts.Herald, database: database, env: r.spec.env, stderr: r.opts.Stderr,
		})
		if err != nil {
			return err
		}

		r.herald = h
	}

	r.http = newHTTPClient(r.opts.Concurrency)

	api, err := newAPIClient(r.herald.url, r.herald.key, r.http)
	r.api = api

	return err
}

// setup makes the run's tenant and endpoints, each with its inbox.
func (r *runner) setup(ctx context.Context) error {
	r.tenant = "bench-" + r.spec.name + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if err := createTenant(ctx, r.api, r.tenant); err != nil {
		return err
	}

	for i := range r.spec.endpoints + r.spec.hanging {
		hang := i >= r.spec.endpoints
		name := r.tenant + "-ep" + strconv.Itoa(i)

		id, secret, err := createEndpoint(ctx, r.api, r.tenant, r.rec.url+"/hook/"+name)
		if err != nil {
			return err
		}

		if _, err := r.rec.add(name, secret, hang); err != nil {
			return err
		}

		if hang {
			r.hanging, r.hangingIDs = append(r.hanging, name), append(r.hangingIDs, id)
		} else {
			r.healthy = append(r.healthy, name)
		}
	}

	return nil
}

// measure publishes the run's messages, waits for them to arrive, and
// fills in the result.
func (r *runner) measure(ctx context.Context) {
	r.opts.progressf(r.spec, "publishing %d messages to %d+%d endpoints at %s/s",
		r.spec.messages, r.spec.endpoints, r.spec.hanging, rate(r.spec.rate))

	before := r.usage()
	pub := publish(ctx, publishParams{
		client: r.api, tenant: r.tenant, messages: r.spec.messages,
		concurrency: r.opts.Concurrency, rate: r.spec.rate,
	})

	r.opts.progressf(r.spec, "published %d (%d failed); waiting up to %s for deliveries",
		len(pub.sent), pub.errors, r.opts.Drain)

	drainCtx, cancel := context.WithTimeout(ctx, r.opts.Drain)
	r.rec.await(drainCtx, r.healthy, pub.sent)
	cancel()

	after := r.usage()
	t := r.rec.tally(r.healthy, r.hanging, pub.sent)

	r.fill(pub, t)
	r.fillUsage(before, after, t.delivered)

	if !r.herald.running() {
		r.res.Notes = append(r.res.Notes, "herald exited during the run")
	}
}

// cleanup deletes the hanging endpoints, so that no retry of theirs
// outlives the run in a database the next run shares.
func (r *runner) cleanup(ctx context.Context) {
	for _, id := range r.hangingIDs {
		r.note(deleteEndpoint(ctx, r.api, r.tenant, id))
	}
}

// runBaseline measures the plain HTTP client against the same receiver,
// with as many requests as the run expected deliveries.
func (r *runner) runBaseline(ctx context.Context) {
	if r.res.Expected == 0 {
		return
	}

	perSec, err := baseline(ctx, baselineParams{
		rec: r.rec, prefix: r.tenant + "-baseline", endpoints: r.spec.endpoints,
		requests: r.res.Expected, concurrency: r.opts.Concurrency,
	})
	if err != nil {
		r.note(err)
		return
	}

	r.res.BaselinePerSecond = perSec
	if perSec > 0 {
		r.res.HeraldVsBaseline = r.res.DeliveriesPerSecond / perSec
	}
}

// note adds err, if any, to the notes of the result.
func (r *runner) note(err error) {
	if err != nil {
		r.res.Notes = append(r.res.Notes, err.Error())
	}
}

// fill sets the result's counts, rates and latencies.
func (r *runner) fill(pub *published, t tally) {
	elapsed := t.last.Sub(pub.start)
	if t.delivered == 0 {
		elapsed = 0
	}

	r.res = Result{
		Name: r.spec.name, Scenario: r.spec.scenario, Database: r.db,
		Endpoints: r.spec.endpoints, HangingEndpoints: r.spec.hanging, TargetRate: r.spec.rate,
		Messages: r.spec.messages, Published: len(pub.sent), PublishErrors: pub.errors,
		PublishPerSecond: pub.rate(), Expected: len(pub.sent) * r.spec.endpoints,
		Delivered: t.delivered, DeliveriesPerSecond: perSecond(t.delivered, elapsed),
		ElapsedSeconds: elapsed.Seconds(), Latency: latencyOf(t.latencies),
		Lost: t.lost, Duplicated: t.duplicates, Unknown: t.unknown,
		VerifyFailures: t.verifyFailures, HungRequests: t.hung,
		Notes: r.res.Notes,
	}

	if pub.errors > 0 {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("%d publishes failed, the first with: %s",
			pub.errors, pub.firstErr))
	}

	if t.lost > 0 {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("%d deliveries had not arrived %s after the last publish",
			t.lost, r.opts.Drain))
	}
}
