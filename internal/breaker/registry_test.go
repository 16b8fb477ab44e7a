package breaker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// acquire asks r for an attempt on id and fails the test unless it is
// allowed.
func acquire(t testing.TB, r *Registry, id string) func(bool) {
	t.Helper()

	release, wait, err := r.Acquire(t.Context(), id)
	require.NoError(t, err)
	require.NotNil(t, release)
	require.Zero(t, wait)

	return release
}

// requireOpen asserts that r refuses an attempt on id with ErrOpen and a
// wait in (0, cooldown].
func requireOpen(t *testing.T, r *Registry, id string) time.Duration {
	t.Helper()

	release, wait, err := r.Acquire(t.Context(), id)
	require.ErrorIs(t, err, ErrOpen)
	require.Nil(t, release)
	require.Positive(t, wait)
	require.LessOrEqual(t, wait, r.settings.Cooldown)

	return wait
}

// fail reports n failed attempts on id.
func fail(t *testing.T, r *Registry, id string, n int) {
	t.Helper()

	for range n {
		acquire(t, r, id)(false)
	}
}

// waitHalfOpen waits, for at most a few seconds, until the breaker of id
// turns half-open.
func waitHalfOpen(t *testing.T, r *Registry, id string) {
	t.Helper()

	require.Eventually(t, func() bool {
		return r.State(id) == "half-open"
	}, 5*time.Second, 5*time.Millisecond)
}

// inFlight returns the in-flight count of id.
func inFlight(r *Registry, id string) int {
	return r.endpoint(id).inFlight()
}

func TestOpensAfterConsecutiveFailures(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 3, Cooldown: time.Minute})

	fail(t, r, "ep", 2)
	acquire(t, r, "ep")(true)
	fail(t, r, "ep", 2)
	require.Equal(t, "closed", r.State("ep"))

	fail(t, r, "ep", 1)
	require.Equal(t, "open", r.State("ep"))
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: time.Minute})
	fail(t, r, "ep", 1)

	first := requireOpen(t, r, "ep")
	require.Greater(t, first, 50*time.Second)

	time.Sleep(10 * time.Millisecond)
	require.Less(t, requireOpen(t, r, "ep"), first)
	require.Zero(t, inFlight(r, "ep"))
}

func TestOpenWaitFloor(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: time.Minute})
	fail(t, r, "ep", 1)

	e := r.endpoint("ep")
	opened := time.Now().Add(-time.Minute + time.Millisecond)
	e.openedAt.Store(&opened)
	require.Equal(t, 100*time.Millisecond, requireOpen(t, r, "ep"))
}

func TestUntilHalfOpenNeverOpened(t *testing.T) {
	t.Parallel()

	e := newEndpoint("ep", Settings{}.withDefaults())
	require.Equal(t, time.Minute, e.untilHalfOpen(time.Minute))
}

func TestHalfOpenLetsProbesThrough(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: 100 * time.Millisecond, Probes: 2})
	fail(t, r, "ep", 1)
	waitHalfOpen(t, r, "ep")

	first := acquire(t, r, "ep")
	second := acquire(t, r, "ep")

	wait := requireOpen(t, r, "ep")
	require.GreaterOrEqual(t, wait, r.openFloor)

	first(true)
	require.Equal(t, "half-open", r.State("ep"))
	second(true)
	require.Equal(t, "closed", r.State("ep"))
}

func TestProbeSuccessCloses(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 2, Cooldown: 100 * time.Millisecond})
	fail(t, r, "ep", 2)
	waitHalfOpen(t, r, "ep")

	acquire(t, r, "ep")(true)
	require.Equal(t, "closed", r.State("ep"))

	// A closed breaker starts a fresh run of failures.
	fail(t, r, "ep", 1)
	require.Equal(t, "closed", r.State("ep"))
	acquire(t, r, "ep")(true)
}

func TestProbeFailureReopens(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 2, Cooldown: 100 * time.Millisecond})
	fail(t, r, "ep", 2)
	waitHalfOpen(t, r, "ep")

	acquire(t, r, "ep")(false)
	require.Equal(t, "open", r.State("ep"))
	requireOpen(t, r, "ep")
}

func TestEndpointsAreIndependent(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: 100 * time.Millisecond, MaxInFlight: 1})
	fail(t, r, "down", 1)
	requireOpen(t, r, "down")

	held := acquire(t, r, "up")
	defer held(true)

	_, _, err := r.Acquire(t.Context(), "up")
	require.ErrorIs(t, err, ErrBusy)

	acquire(t, r, "other")(true)
	require.Equal(t, "closed", r.State("up"))

	waitHalfOpen(t, r, "down")
	require.Equal(t, "closed", r.State("up"))
	require.Equal(t, "closed", r.State("other"))
}

func TestBusy(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{MaxInFlight: 3, BusyWait: 100 * time.Millisecond})

	releases := make([]func(bool), 0, 3)
	for range 3 {
		releases = append(releases, acquire(t, r, "ep"))
	}

	for range 20 {
		release, wait, err := r.Acquire(t.Context(), "ep")
		require.ErrorIs(t, err, ErrBusy)
		require.Nil(t, release)
		require.GreaterOrEqual(t, wait, 100*time.Millisecond)
		require.Less(t, wait, 120*time.Millisecond)
	}

	releases[0](true)
	release := acquire(t, r, "ep")

	_, _, err := r.Acquire(t.Context(), "ep")
	require.ErrorIs(t, err, ErrBusy)

	release(true)
	require.Equal(t, 2, inFlight(r, "ep"))
}

func TestBusyWaitsForSlot(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: time.Minute})
	held := acquire(t, r, "ep")

	go func() {
		time.Sleep(20 * time.Millisecond)
		held(true)
	}()

	// The slot frees long before SlotWait is over.
	acquire(t, r, "ep")(true)
	require.Zero(t, inFlight(r, "ep"))
}

// TestBusyWaitAfterIdle sends a burst to an endpoint idle for an hour: the
// attempts beyond its slots wait for the first ones, which have just
// started, rather than being put off as if it hung.
func TestBusyWaitAfterIdle(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: time.Minute})
	r.endpoint("ep").lastProgress.Store(time.Now().Add(-time.Hour).UnixNano())

	first := acquire(t, r, "ep")

	_, held := r.Held("ep")
	require.False(t, held, "a burst that just started is no hang")

	go func() {
		time.Sleep(20 * time.Millisecond)
		first(true)
	}()

	acquire(t, r, "ep")(true)
}

func TestBusyWaitEnds(t *testing.T) {
	t.Parallel()

	t.Run("after SlotWait", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: 10 * time.Millisecond})
		defer acquire(t, r, "ep")(true)

		_, wait, err := r.Acquire(t.Context(), "ep")
		require.ErrorIs(t, err, ErrBusy)
		require.Positive(t, wait)
	})

	t.Run("when the context is done", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: time.Hour})
		defer acquire(t, r, "ep")(true)

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()

		_, _, err := r.Acquire(ctx, "ep")
		require.ErrorIs(t, err, ErrBusy)
	})

	t.Run("at once when the endpoint makes no progress", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: time.Hour})
		defer acquire(t, r, "ep")(true)

		// Nothing has ended for longer than SlotWait.
		r.endpoint("ep").lastProgress.Store(time.Now().Add(-2 * time.Hour).UnixNano())

		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()

		_, _, err := r.Acquire(ctx, "ep")
		require.ErrorIs(t, err, ErrBusy)
		require.NoError(t, ctx.Err())
	})

	t.Run("at once without SlotWait", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: -1})
		defer acquire(t, r, "ep")(true)

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()

		// With any wait at all, Acquire would see the context done.
		_, _, err := r.Acquire(ctx, "ep")
		require.ErrorIs(t, err, ErrBusy)
		require.NoError(t, ctx.Err())
	})
}

func TestAcquireWithin(t *testing.T) {
	t.Parallel()

	t.Run("waits while the endpoint makes progress", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: 20 * time.Millisecond})

		// Another job keeps the one slot busy with short attempts.
		stop := make(chan struct{})
		done := make(chan struct{})

		go func() {
			defer close(done)

			for {
				select {
				case <-stop:
					return
				default:
				}

				if release, _, err := r.Acquire(t.Context(), "ep"); err == nil {
					time.Sleep(2 * time.Millisecond)
					release(true)
				}
			}
		}()

		release, _, err := r.AcquireWithin(t.Context(), "ep", time.Minute)
		close(stop)
		require.NoError(t, err)
		release(true)
		<-done
	})

	t.Run("gives up after patience", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: 5 * time.Millisecond})
		defer acquire(t, r, "ep")(true)

		// The endpoint looks busy and alive, but its slot never frees.
		stop := make(chan struct{})
		defer close(stop)

		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
					r.endpoint("ep").lastProgress.Store(time.Now().UnixNano())
				}
			}
		}()

		_, _, err := r.AcquireWithin(t.Context(), "ep", 50*time.Millisecond)
		require.ErrorIs(t, err, ErrBusy)
	})
}

func TestBusyWaitGrowsWhileEndpointHangs(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		stalled time.Duration
		least   time.Duration
		most    time.Duration
	}{
		{name: "stalled 10s", stalled: 10 * time.Second, least: 10 * time.Second, most: 13 * time.Second},
		{name: "stalled past the cooldown", stalled: 2 * time.Hour, least: time.Minute, most: 72 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r := NewRegistry(Settings{MaxInFlight: 1, Cooldown: time.Minute, BusyWait: 100 * time.Millisecond})
			defer acquire(t, r, "ep")(true)

			r.endpoint("ep").lastProgress.Store(time.Now().Add(-tt.stalled).UnixNano())

			_, wait, err := r.Acquire(t.Context(), "ep")
			require.ErrorIs(t, err, ErrBusy)
			require.GreaterOrEqual(t, wait, tt.least)
			require.LessOrEqual(t, wait, tt.most)
		})
	}
}

func TestBusyWaitAsksBreakerAgain(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: time.Minute, MaxInFlight: 1, SlotWait: time.Minute})
	held := acquire(t, r, "ep")

	go func() {
		time.Sleep(20 * time.Millisecond)
		held(false) // opens the breaker as it frees the slot
	}()

	// Whether it waited for the slot or came after, the attempt is refused
	// by the breaker that opened, and leaves the slot free.
	requireOpen(t, r, "ep")
	require.Zero(t, inFlight(r, "ep"))
}

func TestBusyDoesNotCountAsFailure(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, MaxInFlight: 1})
	held := acquire(t, r, "ep")

	for range 5 {
		_, _, err := r.Acquire(t.Context(), "ep")
		require.ErrorIs(t, err, ErrBusy)
	}

	held(true)
	require.Equal(t, "closed", r.State("ep"))
}

func TestBusyDoesNotSpendProbe(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{
		Failures:    1,
		Cooldown:    100 * time.Millisecond,
		Probes:      2,
		MaxInFlight: 2,
	})

	// An attempt begun while closed is still out when the breaker opens.
	stale := acquire(t, r, "ep")
	fail(t, r, "ep", 1)
	waitHalfOpen(t, r, "ep")

	probe := acquire(t, r, "ep")

	_, _, err := r.Acquire(t.Context(), "ep")
	require.ErrorIs(t, err, ErrBusy)

	// The stale outcome is ignored, and the refused attempt handed its
	// probe back, so one more probe fits.
	stale(false)
	require.Equal(t, "half-open", r.State("ep"))

	second := acquire(t, r, "ep")
	requireOpen(t, r, "ep")

	probe(true)
	second(true)
	require.Equal(t, "closed", r.State("ep"))
}

func TestHeld(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: time.Minute, MaxInFlight: 1, SlotWait: time.Hour})

	_, held := r.Held("unknown")
	require.False(t, held)

	acquire(t, r, "ep")(true)
	_, held = r.Held("ep")
	require.False(t, held)

	t.Run("busy", func(t *testing.T) {
		t.Parallel()

		r := NewRegistry(Settings{MaxInFlight: 1, SlotWait: time.Hour, BusyWait: time.Second})
		defer acquire(t, r, "busy")(true)

		// Every slot is taken, but attempts end: worth waiting for.
		_, held := r.Held("busy")
		require.False(t, held)

		// None has ended for longer than SlotWait.
		r.endpoint("busy").lastProgress.Store(time.Now().Add(-2 * time.Hour).UnixNano())
		wait, held := r.Held("busy")
		require.True(t, held)
		require.GreaterOrEqual(t, wait, time.Second)
	})

	fail(t, r, "ep", 1)
	wait, held := r.Held("ep")
	require.True(t, held)
	require.Positive(t, wait)
	require.LessOrEqual(t, wait, time.Minute)
}

func TestOpenWinsOverBusy(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: time.Minute, MaxInFlight: 2})
	fail(t, r, "ep", 1)

	// Attempts begun before the breaker opened may still fill the endpoint.
	for range 2 {
		r.endpoint("ep").slots <- struct{}{}
	}

	requireOpen(t, r, "ep")
}

func TestReleaseIsIdempotent(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 2, MaxInFlight: 2})
	held := acquire(t, r, "ep")
	defer held(true)

	release := acquire(t, r, "ep")
	release(false)
	release(false)
	require.Equal(t, 1, inFlight(r, "ep"))
	require.Equal(t, "closed", r.State("ep"))

	acquire(t, r, "ep")
	_, _, err := r.Acquire(t.Context(), "ep")
	require.ErrorIs(t, err, ErrBusy)
}

func TestState(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: 100 * time.Millisecond})
	require.Equal(t, "closed", r.State("unknown"))

	acquire(t, r, "ep")(true)
	require.Equal(t, "closed", r.State("ep"))

	fail(t, r, "ep", 1)
	require.Equal(t, "open", r.State("ep"))

	waitHalfOpen(t, r, "ep")
	require.Equal(t, "half-open", r.State("ep"))
}

func TestForget(t *testing.T) {
	t.Parallel()

	r := NewRegistry(Settings{Failures: 1, Cooldown: time.Minute, MaxInFlight: 1})
	held := acquire(t, r, "ep")
	held(false)
	requireOpen(t, r, "ep")

	r.Forget("ep")
	require.Equal(t, "closed", r.State("ep"))

	// A release from before Forget leaves the new count alone.
	stale := acquire(t, r, "ep")
	r.Forget("ep")
	fresh := acquire(t, r, "ep")
	stale(false)
	require.Equal(t, 1, inFlight(r, "ep"))
	require.Equal(t, "closed", r.State("ep"))
	fresh(true)

	r.Forget("never-seen")
}

func TestConcurrentInFlightBound(t *testing.T) {
	t.Parallel()

	const (
		endpoints   = 4
		workers     = 64
		attempts    = 300
		maxInFlight = 3
	)

	r := NewRegistry(Settings{
		Failures:    4,
		Cooldown:    5 * time.Millisecond,
		Probes:      2,
		MaxInFlight: maxInFlight,
		SlotWait:    -1,
	})

	var (
		current [endpoints]atomic.Int64
		peak    [endpoints]atomic.Int64
		sent    atomic.Int64
		busy    atomic.Int64
		wg      sync.WaitGroup
	)

	for w := range workers {
		wg.Go(func() {
			for i := range attempts {
				ep := (w + i) % endpoints

				release, _, err := r.Acquire(t.Context(), strconv.Itoa(ep))
				if err != nil {
					if errors.Is(err, ErrBusy) {
						busy.Add(1)
					}
					continue
				}

				n := current[ep].Add(1)
				raisePeak(&peak[ep], n)
				sent.Add(1)
				time.Sleep(time.Duration(i%3) * 10 * time.Microsecond)
				current[ep].Add(-1)
				release(i%5 != 0)
				release(true)
			}
		})
	}
	wg.Wait()

	for ep := range endpoints {
		require.LessOrEqual(t, peak[ep].Load(), int64(maxInFlight), "endpoint %d", ep)
		require.Zero(t, inFlight(r, strconv.Itoa(ep)), "endpoint %d", ep)
	}
	require.Positive(t, sent.Load())
	require.Positive(t, busy.Load())
}

// raisePeak raises peak to n if n is higher.
func raisePeak(peak *atomic.Int64, n int64) {
	for {
		p := peak.Load()
		if n <= p || peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func BenchmarkAcquire(b *testing.B) {
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("ep_%d", i)
	}

	for _, n := range []int{1, len(ids)} {
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			r := NewRegistry(Settings{MaxInFlight: 1 << 20})
			for _, id := range ids[:n] {
				acquire(b, r, id)(true)
			}

			var next atomic.Uint64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1)
				for pb.Next() {
					release, _, err := r.Acquire(b.Context(), ids[i%uint64(n)])
					if err != nil {
						b.Fatal(err)
					}
					release(true)
					i++
				}
			})
		})
	}
}

func TestOnStateChange(t *testing.T) {
	t.Parallel()

	var (
		mu      sync.Mutex
		changes []string
	)

	r := NewRegistry(Settings{
		Failures: 1,
		Cooldown: 100 * time.Millisecond,
		OnStateChange: func(endpointID, state string) {
			mu.Lock()
			defer mu.Unlock()

			changes = append(changes, endpointID+" "+state)
		},
	})

	fail(t, r, "ep", 1)
	waitHalfOpen(t, r, "ep")
	acquire(t, r, "ep")(true)

	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"ep open", "ep half-open", "ep closed"}, changes)
}
