package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/client"
)

// eventType is the event type of every message the benchmark publishes.
const eventType = "bench.tick"

// publishParams says what to publish.
type publishParams struct {
	client   *client.ClientWithResponses
	tenant   string
	messages int

	// concurrency is how many publishes are in flight at most.
	concurrency int

	// rate is the target in messages per second; 0 publishes as fast as the
	// publishers go.
	rate float64
}

// published is what publishing did.
type published struct {
	// sent maps the id of each message Herald accepted to when its publish
	// began.
	sent map[string]time.Time

	// errors counts publishes that failed; firstErr says why the first did.
	errors   int
	firstErr string

	// start is when the first publish began, end when the last one ended.
	start, end time.Time
}

// rate returns accepted messages per second from start to end.
func (p *published) rate() float64 {
	return perSecond(len(p.sent), p.end.Sub(p.start))
}

// publish sends p.messages messages from p.concurrency publishers, paced
// to p.rate. It stops early when ctx is done.
func publish(ctx context.Context, p publishParams) *published {
	var (
		out  = &published{sent: make(map[string]time.Time, p.messages), start: time.Now()}
		next = make(chan int)
		mu   sync.Mutex
		wg   sync.WaitGroup
	)

	for range p.concurrency {
		wg.Go(func() {
			for i := range next {
				at := time.Now()
				id, err := publishOne(ctx, p, i)

				mu.Lock()
				out.record(id, at, err)
				mu.Unlock()
			}
		})
	}

	pace(ctx, next, p.messages, p.rate, out.start)
	close(next)
	wg.Wait()

	out.end = time.Now()

	return out
}

// record notes the outcome of one publish.
func (p *published) record(id string, at time.Time, err error) {
	if err != nil {
		if p.errors == 0 {
			p.firstErr = err.Error()
		}

		p.errors++

		return
	}

	p.sent[id] = at
}

// pace sends 0 to n-1 on next, the i-th no sooner than i/rate seconds
// after start when rate is positive.
func pace(ctx context.Context, next chan<- int, n int, rate float64, start time.Time) {
	timer := time.NewTimer(0)
	defer timer.Stop()

	for i := range n {
		if rate > 0 {
			timer.Reset(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))

			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}

		select {
		case <-ctx.Done():
			return
		case next <- i:
		}
	}
}

// publishOne publishes message i and returns its id.
func publishOne(ctx context.Context, p publishParams, i int) (string, error) {
	res, err := p.client.PublishMessageWithResponse(ctx, p.tenant, client.MessageInput{
		EventType: eventType,
		Payload:   payload(i),
	})
	if err != nil {
		return "", fmt.Errorf("publish: %w", err)
	}

	if res.JSON202 == nil {
		return "", fmt.Errorf("publish: %s: %s", res.Status(), res.Body)
	}

	return res.JSON202.Id, nil
}

// padding makes each payload about 200 bytes, the size of a small event.
var padding = strings.Repeat("x", 160)

// payload returns the JSON body of message i.
func payload(i int) []byte {
	return fmt.Appendf(nil, `{"n":%d,"sent_by":"herald-bench","padding":%q}`, i, padding)
}

// perSecond returns n per second of d, or 0 when d is not positive.
func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}

	return float64(n) / d.Seconds()
}
