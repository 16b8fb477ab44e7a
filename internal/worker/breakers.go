package worker

import (
	"context"
	"log/slog"
	"time"
)

// breakerBacklog is how many breaker changes may wait to be written before
// new ones are dropped.
const breakerBacklog = 256

// BreakerStateStore is where [BreakerStates] writes.
type BreakerStateStore interface {
	RecordBreakerState(ctx context.Context, endpointID, state string, at time.Time) error
}

// BreakerStates writes the state changes of a process's breakers to the
// database, where support can see them. Breakers report a change with
// their lock held, so [BreakerStates.Record] only hands it over, and
// [BreakerStates.Run] writes it.
type BreakerStates struct {
	store   BreakerStateStore
	logger  *slog.Logger
	changes chan breakerChange
}

type breakerChange struct {
	endpointID string
	state      string
	at         time.Time
}

// NewBreakerStates returns a BreakerStates that writes to store.
func NewBreakerStates(store BreakerStateStore, logger *slog.Logger) *BreakerStates {
	return &BreakerStates{
		store:   store,
		logger:  logger,
		changes: make(chan breakerChange, breakerBacklog),
	}
}

// Record hands over a change without blocking, to be written by Run. When
// the backlog is full the change is dropped: the next one of the same
// breaker brings the record up to date.
func (b *BreakerStates) Record(endpointID, state string) {
	select {
	case b.changes <- breakerChange{endpointID: endpointID, state: state, at: time.Now().UTC()}:
	default:
	}
}

// Run writes the changes handed over until ctx is done.
func (b *BreakerStates) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-b.changes:
			err := b.store.RecordBreakerState(ctx, c.endpointID, c.state, c.at.Truncate(time.Microsecond))
			if err != nil && ctx.Err() == nil {
				b.logger.WarnContext(ctx, "record breaker state",
					slog.String("endpoint_id", c.endpointID),
					slog.String("error", err.Error()))
			}
		}
	}
}
