package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/messages"
)

const recoveryColumns = `id, tenant_id, endpoint_id, since, until, status, total, queued, job_id,
	actor, reason, created_at, updated_at`

// CreateRecovery stores r, a new recovery, running, with Total set to the
// number of failed deliveries its window holds now, and queues the job
// that works it, all in one transaction. It returns the stored recovery
// with Total and JobID set, [subscriptions.ErrEndpointNotFound] or
// [subscriptions.ErrEndpointDisabled]. The store must have been made by
// [Store.WithEnqueue].
func (s *Store) CreateRecovery(ctx context.Context, r messages.Recovery) (messages.Recovery, error) {
	if s.enqueue == nil {
		return messages.Recovery{}, errors.New("create recovery: the store cannot enqueue jobs")
	}

	r.Status, r.Queued, r.Reason = messages.RecoveryRunning, 0, ""

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockEnabledEndpoint(ctx, tx, r.TenantID, r.EndpointID); err != nil {
			return err
		}

		const count = `SELECT count(*) FROM deliveries
			WHERE endpoint_id = $1 AND status = 'failed' AND message_id >= $2 AND message_id < $3`

		since, until := recoveryWindow(r)
		if err := tx.QueryRow(ctx, count, r.EndpointID, since, until).Scan(&r.Total); err != nil {
			return fmt.Errorf("count failed deliveries: %w", err)
		}

		var err error
		if r.JobID, err = s.enqueue.EnqueueRecovery(ctx, tx, r.ID); err != nil {
			return fmt.Errorf("enqueue recovery: %w", err)
		}

		const insert = "INSERT INTO recoveries (" + recoveryColumns + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`

		_, err = tx.Exec(ctx, insert, r.ID, r.TenantID, r.EndpointID, r.Since, r.Until,
			string(r.Status), r.Total, r.Queued, r.JobID, r.Actor, r.Reason, r.CreatedAt, r.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert recovery: %w", err)
		}

		return nil
	})
	if err != nil {
		return messages.Recovery{}, err
	}

	return r, nil
}

// recoveryWindow returns the bounds of the message ids of r's window,
// the lower one included.
func recoveryWindow(r messages.Recovery) (since, until string) {
	return messages.IDAt(messagePrefix, r.Since), messages.IDAt(messagePrefix, r.Until)
}

// GetRecovery returns the recovery with id of the tenant's endpoint, or
// [messages.ErrRecoveryNotFound].
func (s *Store) GetRecovery(ctx context.Context, tenantID, endpointID, id string) (messages.Recovery, error) {
	const query = "SELECT " + recoveryColumns + ` FROM recoveries
		WHERE id = $1 AND tenant_id = $2 AND endpoint_id = $3`

	rows, err := s.pool.Query(ctx, query, id, tenantID, endpointID)
	if err != nil {
		return messages.Recovery{}, fmt.Errorf("get recovery: %w", err)
	}

	r, err := pgx.CollectExactlyOneRow(rows, scanRecovery)
	if errors.Is(err, pgx.ErrNoRows) {
		return messages.Recovery{}, messages.ErrRecoveryNotFound
	}

	if err != nil {
		return messages.Recovery{}, fmt.Errorf("get recovery: %w", err)
	}

	return r, nil
}

// ListRecoveries returns at most limit recoveries of the tenant's endpoint
// with id sorting before the given one, newest first, or
// [subscriptions.ErrEndpointNotFound].
func (s *Store) ListRecoveries(
	ctx context.Context, tenantID, endpointID, before string, limit int,
) ([]messages.Recovery, error) {
	const query = "SELECT " + recoveryColumns + ` FROM recoveries
		WHERE endpoint_id = $1 AND tenant_id = $2 AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`

	rows, err := s.pool.Query(ctx, query, endpointID, tenantID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list recoveries: %w", err)
	}

	recoveries, err := pgx.CollectRows(rows, scanRecovery)
	if err != nil {
		return nil, fmt.Errorf("list recoveries: %w", err)
	}

	if len(recoveries) == 0 {
		// An empty page needs telling apart from a missing endpoint.
		if _, err := s.GetEndpoint(ctx, tenantID, endpointID); err != nil {
			return nil, err
		}
	}

	return recoveries, nil
}

func scanRecovery(row pgx.CollectableRow) (messages.Recovery, error) {
	return scanRecoveryAfter(row)
}

// scanRecoveryAfter scans a row of lead columns followed by
// recoveryColumns, the lead ones into lead.
func scanRecoveryAfter(row pgx.Row, lead ...any) (messages.Recovery, error) {
	var r messages.Recovery

	dest := make([]any, 0, len(lead)+13)
	dest = append(dest, lead...)
	dest = append(dest, &r.ID, &r.TenantID, &r.EndpointID, &r.Since, &r.Until, &r.Status,
		&r.Total, &r.Queued, &r.JobID, &r.Actor, &r.Reason, &r.CreatedAt, &r.UpdatedAt)
	if err := row.Scan(dest...); err != nil {
		return messages.Recovery{}, err //nolint:wrapcheck // wrapped by the caller
	}

	for _, t := range []*time.Time{&r.Since, &r.Until, &r.CreatedAt, &r.UpdatedAt} {
		*t = t.UTC()
	}

	return r, nil
}

// RecoverNext works the next batch of the recovery with id in one
// transaction: it locks the recovery and, while it runs, replays up to
// batch of its failed deliveries in message id order from where the last
// batch stopped, records the replays, queues their jobs and the progress.
// The recovery is done when a batch comes short, and canceled when its
// endpoint is disabled. It returns the recovery as it stands, or
// [messages.ErrRecoveryNotFound]. The store must have been made by
// [Store.WithEnqueue].
func (s *Store) RecoverNext(ctx context.Context, id string, batch int) (messages.Recovery, error) {
	if s.enqueue == nil {
		return messages.Recovery{}, errors.New("recover: the store cannot enqueue jobs")
	}

	var r messages.Recovery

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		locked, cursor, err := lockRecovery(ctx, tx, id)
		if err != nil || locked.Status != messages.RecoveryRunning {
			r = locked
			return err
		}

		// The endpoint's lock holds a disable off until the batch is
		// queued; the disable then fails the deliveries made pending.
		disabled, reason, err := lockEndpoint(ctx, tx, locked.TenantID, locked.EndpointID)
		if err != nil {
			return err
		}

		now := time.Now().UTC().Truncate(time.Microsecond)

		if disabled {
			r, err = updateRecovery(ctx, tx, id, recoveryProgress{
				cursor: cursor, status: messages.RecoveryCanceled,
				reason: "endpoint disabled: " + reason, at: now,
			})

			return err
		}

		r, err = s.recoverBatch(ctx, tx, locked, cursor, batch, now)

		return err
	})
	if err != nil {
		return messages.Recovery{}, err
	}

	return r, nil
}

// lockRecovery reads the recovery with id and its cursor, locking it until
// the transaction ends, or returns [messages.ErrRecoveryNotFound].
func lockRecovery(ctx context.Context, tx pgx.Tx, id string) (messages.Recovery, string, error) {
	const query = "SELECT cursor, " + recoveryColumns + " FROM recoveries WHERE id = $1 FOR UPDATE"

	var cursor string

	r, err := scanRecoveryAfter(tx.QueryRow(ctx, query, id), &cursor)
	if errors.Is(err, pgx.ErrNoRows) {
		return messages.Recovery{}, "", messages.ErrRecoveryNotFound
	}

	if err != nil {
		return messages.Recovery{}, "", fmt.Errorf("lock recovery: %w", err)
	}

	return r, cursor, nil
}

// recoverBatch replays up to batch failed deliveries of r's window whose
// message id sorts after cursor, and records the progress.
func (s *Store) recoverBatch(
	ctx context.Context, tx pgx.Tx, r messages.Recovery, cursor string, batch int, now time.Time,
) (messages.Recovery, error) {
	found, err := failedAfter(ctx, tx, r, cursor, batch)
	if err != nil {
		return messages.Recovery{}, err
	}

	// A delivery found failed may have been resent since: it is pending
	// already and left alone, so refs can be fewer than found.
	refs, err := restartRounds(ctx, tx, r.EndpointID, found, now)
	if err != nil {
		return messages.Recovery{}, err
	}

	if err := s.recordRecovered(ctx, tx, r, refs, now); err != nil {
		return messages.Recovery{}, err
	}

	p := recoveryProgress{cursor: cursor, queued: len(refs), status: messages.RecoveryRunning, at: now}
	if len(found) > 0 {
		p.cursor = found[len(found)-1]
	}

	if len(found) < batch {
		p.status = messages.RecoveryDone
	}

	return updateRecovery(ctx, tx, r.ID, p)
}

// failedAfter returns the message ids of up to limit failed deliveries to
// r's endpoint in r's window, after cursor, in order.
func failedAfter(ctx context.Context, tx pgx.Tx, r messages.Recovery, cursor string, limit int) ([]string, error) {
	const query = `SELECT message_id FROM deliveries
		WHERE endpoint_id = $1 AND status = 'failed' AND message_id >= $2 AND message_id < $3
		AND message_id > $4
		ORDER BY message_id LIMIT $5`

	since, until := recoveryWindow(r)

	rows, err := tx.Query(ctx, query, r.EndpointID, since, until, cursor, limit)
	if err != nil {
		return nil, fmt.Errorf("find failed deliveries: %w", err)
	}

	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find failed deliveries: %w", err)
	}

	return ids, nil
}

// restartRounds starts the next round of the deliveries of messageIDs to
// the endpoint that are still failed, due at now, and returns their jobs
// in message id order.
func restartRounds(
	ctx context.Context, tx pgx.Tx, endpointID string, messageIDs []string, now time.Time,
) ([]messages.Ref, error) {
	const query = `UPDATE deliveries SET status = 'pending', round = round + 1,
			round_start = attempts, next_attempt_at = $3, reason = '', updated_at = $3
		WHERE endpoint_id = $1 AND message_id = ANY($2) AND status = 'failed'
		RETURNING message_id, endpoint_id, round`

	rows, err := tx.Query(ctx, query, endpointID, messageIDs, now)
	if err != nil {
		return nil, fmt.Errorf("restart deliveries: %w", err)
	}

	refs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (messages.Ref, error) {
		var ref messages.Ref
		err := row.Scan(&ref.MessageID, &ref.EndpointID, &ref.Round)

		return ref, err
	})
	if err != nil {
		return nil, fmt.Errorf("restart deliveries: %w", err)
	}

	slices.SortFunc(refs, func(a, b messages.Ref) int { return strings.Compare(a.MessageID, b.MessageID) })

	return refs, nil
}

// recordRecovered records the replays of refs by the recovery r and queues
// their jobs.
func (s *Store) recordRecovered(
	ctx context.Context, tx pgx.Tx, r messages.Recovery, refs []messages.Ref, now time.Time,
) error {
	if len(refs) == 0 {
		return nil
	}

	ids := make([]string, len(refs))
	messageIDs := make([]string, len(refs))

	for i, ref := range refs {
		id, err := messages.NewReplayID()
		if err != nil {
			return err
		}

		ids[i], messageIDs[i] = id, ref.MessageID
	}

	replay := messages.Replay{
		TenantID:   r.TenantID,
		EndpointID: r.EndpointID,
		Kind:       messages.ReplayRecover,
		RecoveryID: r.ID,
		Actor:      r.Actor,
		CreatedAt:  now,
	}
	if err := insertReplays(ctx, tx, replay, ids, messageIDs); err != nil {
		return err
	}

	if err := s.enqueue.EnqueueDeliveries(ctx, tx, refs); err != nil {
		return fmt.Errorf("enqueue deliveries: %w", err)
	}

	return nil
}

// recoveryProgress is what one batch changes of a recovery.
type recoveryProgress struct {
	cursor string

	// queued is how many deliveries the batch queued.
	queued int

	status messages.RecoveryStatus
	reason string
	at     time.Time
}

// updateRecovery records p in the recovery with id and returns it.
func updateRecovery(ctx context.Context, tx pgx.Tx, id string, p recoveryProgress) (messages.Recovery, error) {
	const query = `UPDATE recoveries SET cursor = $2, queued = queued + $3, status = $4,
			reason = $5, updated_at = $6
		WHERE id = $1 RETURNING ` + recoveryColumns

	r, err := scanRecoveryAfter(tx.QueryRow(ctx, query, id, p.cursor, p.queued, string(p.status),
		p.reason, p.at))
	if err != nil {
		return messages.Recovery{}, fmt.Errorf("update recovery: %w", err)
	}

	return r, nil
}
