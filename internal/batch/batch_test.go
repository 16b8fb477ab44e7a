package batch_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/heraldhq/herald/internal/batch"
)

// recorder is a batch function that doubles each item and keeps the
// batches it was given.
type recorder struct {
	mu      sync.Mutex
	batches [][]int

	// started receives each batch as it starts; hold, when not nil, is
	// read once before each batch returns.
	started chan []int
	hold    chan struct{}
}

func newRecorder() *recorder {
	return &recorder{started: make(chan []int, 100)}
}

func (r *recorder) double(_ context.Context, items []int) []int {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(items))
	r.mu.Unlock()

	r.started <- items

	if r.hold != nil {
		<-r.hold
	}

	out := make([]int, len(items))
	for i, n := range items {
		out[i] = 2 * n
	}

	return out
}

func (r *recorder) seen() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()

	return slices.Clone(r.batches)
}

// doAll calls b.Do for each item from its own goroutine and returns the
// results by item.
func doAll(t *testing.T, b *batch.Batcher[int, int], items []int) map[int]int {
	t.Helper()

	var (
		mu  sync.Mutex
		got = make(map[int]int, len(items))
		wg  sync.WaitGroup
	)

	for _, n := range items {
		wg.Go(func() {
			res, err := b.Do(t.Context(), n)
			if err != nil {
				t.Errorf("Do(%d): %v", n, err)
			}

			mu.Lock()
			got[n] = res
			mu.Unlock()
		})
	}

	wg.Wait()

	return got
}

func TestDoAlone(t *testing.T) {
	t.Parallel()

	r := newRecorder()
	b := batch.New(r.double, batch.Opts{})

	for n := range 3 {
		got, err := b.Do(t.Context(), n)
		require.NoError(t, err)
		require.Equal(t, 2*n, got)
	}

	// Nothing waited, so each call ran alone and at once.
	require.Equal(t, [][]int{{0}, {1}, {2}}, r.seen())
}

func TestDoGathersWaitingCalls(t *testing.T) {
	t.Parallel()

	r := newRecorder()
	r.hold = make(chan struct{})
	b := batch.New(r.double, batch.Opts{Concurrency: 1})

	first := make(chan int)
	go func() {
		got, _ := b.Do(t.Context(), 100)
		first <- got
	}()

	require.Equal(t, []int{100}, <-r.started)

	// While the first batch is held, the others queue up behind it.
	waiting := []int{1, 2, 3, 4, 5}
	results := make(chan map[int]int)

	go func() { results <- doAll(t, b, waiting) }()

	require.Eventually(t, func() bool { return b.Waiting() == len(waiting) },
		5*time.Second, time.Millisecond)

	close(r.hold)
	require.Equal(t, 200, <-first)

	got := <-results
	for _, n := range waiting {
		require.Equal(t, 2*n, got[n])
	}

	batches := r.seen()
	require.Len(t, batches, 2)
	require.ElementsMatch(t, waiting, batches[1])
}

func TestDoKeepsToMaxSize(t *testing.T) {
	t.Parallel()

	r := newRecorder()
	r.hold = make(chan struct{})
	b := batch.New(r.double, batch.Opts{Concurrency: 1, MaxSize: 3})

	go func() { _, _ = b.Do(t.Context(), 0) }()

	<-r.started

	items := []int{1, 2, 3, 4, 5, 6, 7}
	results := make(chan map[int]int)

	go func() { results <- doAll(t, b, items) }()

	require.Eventually(t, func() bool { return b.Waiting() == len(items) },
		5*time.Second, time.Millisecond)
	close(r.hold)

	got := <-results
	require.Len(t, got, len(items))

	sizes := make([]int, 0, 3)
	for _, batch := range r.seen()[1:] {
		sizes = append(sizes, len(batch))
	}

	require.Equal(t, []int{3, 3, 1}, sizes)
}

func TestDoRunsConcurrentBatches(t *testing.T) {
	t.Parallel()

	r := newRecorder()
	r.hold = make(chan struct{})
	b := batch.New(r.double, batch.Opts{Concurrency: 2})

	results := make(chan int, 2)
	for _, n := range []int{1, 2} {
		go func() {
			got, _ := b.Do(t.Context(), n)
			results <- got
		}()

		// The second batch starts while the first is held.
		require.Equal(t, []int{n}, <-r.started)
	}

	close(r.hold)
	require.ElementsMatch(t, []int{2, 4}, []int{<-results, <-results})
}

func TestDoCallerGivesUp(t *testing.T) {
	t.Parallel()

	type key struct{}

	var (
		hold     = make(chan struct{})
		batchCtx = make(chan context.Context, 1)
	)

	b := batch.New(func(ctx context.Context, items []int) []int {
		batchCtx <- ctx
		<-hold

		return items
	}, batch.Opts{Timeout: time.Minute})

	ctx, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "value"))

	done := make(chan error)
	go func() {
		_, err := b.Do(ctx, 1)
		done <- err
	}()

	inner := <-batchCtx

	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	// The batch goes on, with the caller's values, until its own timeout.
	require.NoError(t, inner.Err())
	require.Equal(t, "value", inner.Value(key{}))

	deadline, ok := inner.Deadline()
	require.True(t, ok)
	require.WithinDuration(t, time.Now().Add(time.Minute), deadline, 10*time.Second)

	close(hold)
}

func TestDoTimeout(t *testing.T) {
	t.Parallel()

	b := batch.New(func(ctx context.Context, items []int) []error {
		<-ctx.Done()

		errs := make([]error, len(items))
		for i := range errs {
			errs[i] = ctx.Err()
		}

		return errs
	}, batch.Opts{Timeout: 10 * time.Millisecond})

	res, err := b.Do(t.Context(), 1)
	require.NoError(t, err)
	require.ErrorIs(t, res, context.DeadlineExceeded)
}

func TestDoPanics(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		fn   batch.Func[int, int]
		want any
	}{
		{
			name: "in the work",
			fn:   func(context.Context, []int) []int { panic("boom") },
			want: "boom",
		},
		{
			name: "for too few results",
			fn:   func(context.Context, []int) []int { return nil },
			want: "batch: 0 results for 1 items",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			b := batch.New(tt.fn, batch.Opts{})

			// Each caller sees the panic, and the batcher goes on.
			for range 2 {
				require.PanicsWithValue(t, tt.want, func() { _, _ = b.Do(t.Context(), 1) })
			}

			require.Zero(t, b.Waiting())
		})
	}
}
