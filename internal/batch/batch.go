// Package batch groups calls that arrive together into one call of many
// items. Herald uses it for group commit: publishes that arrive while a
// transaction is writing wait for the next one, which writes them all, so
// that a busy database commits once per batch instead of once per call.
package batch

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"
)

// Func does the work of one batch. It returns one result per item, in the
// order of items.
type Func[T, R any] func(ctx context.Context, items []T) []R

// Opts configures [New].
type Opts struct {
	// MaxSize is the most items one batch takes. Defaults to 100.
	MaxSize int

	// Concurrency is how many batches run at once. While that many run,
	// new items wait and go together into the next batch. Defaults to 2.
	Concurrency int

	// Timeout bounds one batch: its context is done after this long. The
	// batch does not end with the context of any one caller, since it
	// does the work of others too. Defaults to 30s.
	Timeout time.Duration
}

// Defaults of [Opts].
const (
	defaultMaxSize     = 100
	defaultConcurrency = 2
	defaultTimeout     = 30 * time.Second
)

// Batcher runs calls of [Batcher.Do] in batches. It is safe for concurrent
// use and needs no stopping: it runs goroutines only while items wait.
type Batcher[T, R any] struct {
	fn          Func[T, R]
	maxSize     int
	concurrency int
	timeout     time.Duration

	mu      sync.Mutex
	pending []*call[T, R]
	running int
}

// call is one item waiting for its result.
type call[T, R any] struct {
	ctx    context.Context //nolint:containedctx // the caller's, for its values
	item   T
	result R
	done   chan struct{}

	// panicked is what the batch's work panicked with, if it did.
	panicked any
}

// New returns a Batcher that does its work with fn.
func New[T, R any](fn Func[T, R], opts Opts) *Batcher[T, R] {
	return &Batcher[T, R]{
		fn:          fn,
		maxSize:     max(1, cmp.Or(opts.MaxSize, defaultMaxSize)),
		concurrency: max(1, cmp.Or(opts.Concurrency, defaultConcurrency)),
		timeout:     cmp.Or(opts.Timeout, defaultTimeout),
	}
}

// Do adds item to the next batch and returns its result once the batch is
// done. When fewer than Concurrency batches are running, that batch starts
// at once, so an idle Batcher adds no wait.
//
// The batch runs with a context that keeps the values of the context of
// the first call it takes, but is done only after Timeout: a caller that
// gives up does not cancel the work of the others. When ctx is done first,
// Do returns ctx's error at once; the item may still be worked. Should the
// work panic, every caller of the batch that still waits panics with the
// same value, in its own goroutine, where its own recovery can see it.
func (b *Batcher[T, R]) Do(ctx context.Context, item T) (R, error) {
	c := &call[T, R]{ctx: ctx, item: item, done: make(chan struct{})}

	b.mu.Lock()
	b.pending = append(b.pending, c)

	start := b.running < b.concurrency
	if start {
		b.running++
	}
	b.mu.Unlock()

	if start {
		go b.drain()
	}

	select {
	case <-c.done:
		if c.panicked != nil {
			panic(c.panicked)
		}

		return c.result, nil
	case <-ctx.Done():
		var zero R
		return zero, context.Cause(ctx)
	}
}

// Waiting returns how many items wait for a batch to take them.
func (b *Batcher[T, R]) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()

	return len(b.pending)
}

// drain runs batches until no item waits.
func (b *Batcher[T, R]) drain() {
	for {
		calls := b.take()
		if calls == nil {
			return
		}

		b.run(calls)
	}
}

// take removes the next batch from the pending items, or returns nil and
// counts this drain as ended when none waits.
func (b *Batcher[T, R]) take() []*call[T, R] {
	b.mu.Lock()
	defer b.mu.Unlock()

	if len(b.pending) == 0 {
		b.running--
		return nil
	}

	n := min(len(b.pending), b.maxSize)
	calls := b.pending[:n:n]
	b.pending = b.pending[n:]

	if len(b.pending) == 0 {
		b.pending = nil // let the taken calls' backing array go
	}

	return calls
}

// run does the work of one batch and hands each call its result, or the
// value the work panicked with.
func (b *Batcher[T, R]) run(calls []*call[T, R]) {
	defer func() {
		if p := recover(); p != nil {
			for _, c := range calls {
				c.panicked = p
				close(c.done)
			}
		}
	}()

	items := make([]T, len(calls))
	for i, c := range calls {
		items[i] = c.item
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(calls[0].ctx), b.timeout)
	results := b.fn(ctx, items)

	cancel()

	if len(results) != len(calls) {
		panic(fmt.Sprintf("batch: %d results for %d items", len(results), len(calls)))
	}

	for i, c := range calls {
		c.result = results[i]
		close(c.done)
	}
}
