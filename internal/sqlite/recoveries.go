package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/messages"
)

// recoveryColumns are the columns of a recovery in the order scanRecovery
// reads them.
const recoveryColumns = `id, tenant_id, endpoint_id, since, until, status, total, queued, job_id,
	actor, reason, created_at, updated_at`

// CreateRecovery counts the endpoint's failed deliveries of the messages
// created in r's window, stores r with that Total and queues the job that
// works it, all in one transaction. It returns r with Total and JobID
// set, [subscriptions.ErrEndpointNotFound] or
// [subscriptions.ErrEndpointDisabled]. The store must have been made by
// [Store.WithEnqueue].
func (s *Store) CreateRecovery(ctx context.Context, r messages.Recovery) (messages.Recovery, error) {
	if s.enqueue == nil {
		return messages.Recovery{}, errors.New("create recovery: the store cannot enqueue jobs")
	}

	const (
		count = `SELECT count(*) FROM deliveries
			WHERE endpoint_id = ? AND status = 'failed' AND message_id >= ? AND message_id < ?`
		insert = `INSERT INTO recoveries (id, tenant_id, endpoint_id, since, until, status, total,
				job_id, actor, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	)

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkEnabled(ctx, tx, r.TenantID, r.EndpointID); err != nil {
			return err
		}

		lo, hi := recoveryWindow(r)

		err := tx.QueryRowContext(ctx, count, r.EndpointID, lo, hi).Scan(&r.Total)
		if err != nil {
			return fmt.Errorf("count failed deliveries: %w", err)
		}

		if r.JobID, err = s.enqueue.EnqueueRecovery(ctx, tx, r.ID); err != nil {
			return fmt.Errorf("enqueue recovery: %w", err)
		}

		_, err = tx.ExecContext(ctx, insert, r.ID, r.TenantID, r.EndpointID, micros(r.Since),
			micros(r.Until), string(r.Status), r.Total, r.JobID, r.Actor, micros(r.CreatedAt),
			micros(r.UpdatedAt))
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

// recoveryWindow returns the range of message ids of r's window, from lo
// included to hi excluded.
func recoveryWindow(r messages.Recovery) (lo, hi string) {
	return messages.IDAt(messagePrefix, r.Since), messages.IDAt(messagePrefix, r.Until)
}

// GetRecovery returns the recovery with id of the tenant's endpoint, or
// [messages.ErrRecoveryNotFound].
func (s *Store) GetRecovery(
	ctx context.Context, tenantID, endpointID, id string,
) (messages.Recovery, error) {
	const query = "SELECT " + recoveryColumns + ` FROM recoveries
		WHERE id = ? AND tenant_id = ? AND endpoint_id = ?`

	var r messages.Recovery

	err := scanRecovery(s.db.QueryRowContext(ctx, query, id, tenantID, endpointID), &r)
	if errors.Is(err, sql.ErrNoRows) {
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
		WHERE endpoint_id = ?1 AND tenant_id = ?2 AND (?3 = '' OR id < ?3)
		ORDER BY id DESC LIMIT ?4`

	if err := checkLimit(limit); err != nil {
		return nil, fmt.Errorf("list recoveries: %w", err)
	}

	scan := func(row scanner) (messages.Recovery, error) {
		var r messages.Recovery
		err := scanRecovery(row, &r)

		return r, err
	}

	recoveries, err := queryAll(ctx, s.db, scan, query, endpointID, tenantID, before, limit)
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

// RecoverNext works the next batch of the recovery with id, in one
// transaction that holds the write lock throughout: while the recovery is
// running, it cancels it when its endpoint is disabled, and otherwise
// replays at most batch failed deliveries of its window that come after
// its cursor, in message id order, queues their jobs, and moves the cursor
// past them. A short batch ends the window and marks the recovery done.
// It returns the recovery as it stands, or [messages.ErrRecoveryNotFound].
// The store must have been made by [Store.WithEnqueue].
func (s *Store) RecoverNext(ctx context.Context, id string, batch int) (messages.Recovery, error) {
	if s.enqueue == nil {
		return messages.Recovery{}, errors.New("recover next: the store cannot enqueue jobs")
	}

	if batch < 1 {
		return messages.Recovery{}, fmt.Errorf("recover next: batch %d is not positive", batch)
	}

	var r messages.Recovery

	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			cursor string
			err    error
		)

		r, cursor, err = getRecovery(ctx, tx, id)
		if err != nil || r.Status != messages.RecoveryRunning {
			return err
		}

		now := time.Now().UTC().Truncate(time.Microsecond)

		e, err := getEndpoint(ctx, tx, r.TenantID, r.EndpointID)
		if err != nil {
			return err
		}

		if e.Disabled {
			r, err = cancelRecovery(ctx, tx, id, "endpoint disabled: "+e.DisabledReason, now)
			return err
		}

		r, err = s.recoverBatch(ctx, tx, r, cursor, batch, now)

		return err
	})
	if err != nil {
		return messages.Recovery{}, err
	}

	return r, nil
}

// getRecovery returns the recovery with id and its cursor, or
// [messages.ErrRecoveryNotFound].
func getRecovery(ctx context.Context, tx *sql.Tx, id string) (messages.Recovery, string, error) {
	const query = "SELECT " + recoveryColumns + ", cursor FROM recoveries WHERE id = ?"

	var (
		r      messages.Recovery
		cursor string
	)

	err := scanRecovery(tx.QueryRowContext(ctx, query, id), &r, &cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return messages.Recovery{}, "", messages.ErrRecoveryNotFound
	}

	if err != nil {
		return messages.Recovery{}, "", fmt.Errorf("get recovery: %w", err)
	}

	return r, cursor, nil
}

// cancelRecovery marks the recovery with id canceled for reason.
func cancelRecovery(
	ctx context.Context, tx *sql.Tx, id, reason string, now time.Time,
) (messages.Recovery, error) {
	const query = `UPDATE recoveries SET status = 'canceled', reason = ?, updated_at = ?
		WHERE id = ? RETURNING ` + recoveryColumns

	var r messages.Recovery

	row := tx.QueryRowContext(ctx, query, reason, micros(now), id)
	if err := scanRecovery(row, &r); err != nil {
		return messages.Recovery{}, fmt.Errorf("cancel recovery: %w", err)
	}

	return r, nil
}

// recoverBatch replays the next batch of r's failed deliveries after
// cursor, records and queues them, and records r's progress.
func (s *Store) recoverBatch(
	ctx context.Context, tx *sql.Tx, r messages.Recovery, cursor string, batch int, now time.Time,
) (messages.Recovery, error) {
	refs, err := replayFailed(ctx, tx, r, cursor, batch, now)
	if err != nil {
		return messages.Recovery{}, err
	}

	if len(refs) > 0 {
		replays, err := recoverReplays(r, refs, now)
		if err != nil {
			return messages.Recovery{}, err
		}

		if err := insertReplays(ctx, tx, replays); err != nil {
			return messages.Recovery{}, err
		}

		if err := s.enqueue.EnqueueDeliveries(ctx, tx, refs); err != nil {
			return messages.Recovery{}, fmt.Errorf("enqueue deliveries: %w", err)
		}

		cursor = refs[len(refs)-1].MessageID
	}

	status := messages.RecoveryRunning
	if len(refs) < batch {
		status = messages.RecoveryDone
	}

	const query = `UPDATE recoveries SET status = ?, queued = queued + ?, cursor = ?,
			updated_at = ?
		WHERE id = ? RETURNING ` + recoveryColumns

	row := tx.QueryRowContext(ctx, query, string(status), len(refs), cursor, micros(now), r.ID)
	if err := scanRecovery(row, &r); err != nil {
		return messages.Recovery{}, fmt.Errorf("record recovery progress: %w", err)
	}

	return r, nil
}

// replayFailed starts the next round of at most batch failed deliveries of
// r's window after cursor, the first in message id order, and returns
// them in that order.
func replayFailed(
	ctx context.Context, tx *sql.Tx, r messages.Recovery, cursor string, batch int, now time.Time,
) ([]messages.Ref, error) {
	const query = `UPDATE deliveries SET status = 'pending', round = round + 1,
			round_start = attempts, next_attempt_at = ?1, reason = '', updated_at = ?1
		WHERE endpoint_id = ?2 AND message_id IN (
			SELECT message_id FROM deliveries
			WHERE endpoint_id = ?2 AND status = 'failed'
				AND message_id >= ?3 AND message_id < ?4 AND message_id > ?5
			ORDER BY message_id LIMIT ?6)
		RETURNING message_id, endpoint_id, round`

	lo, hi := recoveryWindow(r)

	refs, err := queryAll(ctx, tx, scanRef, query, micros(now), r.EndpointID, lo, hi, cursor, batch)
	if err != nil {
		return nil, fmt.Errorf("replay failed deliveries: %w", err)
	}

	// RETURNING yields the rows in no set order.
	slices.SortFunc(refs, func(a, b messages.Ref) int {
		return cmp.Compare(a.MessageID, b.MessageID)
	})

	return refs, nil
}

// recoverReplays returns the records of r replaying refs, with fresh ids.
func recoverReplays(
	r messages.Recovery, refs []messages.Ref, now time.Time,
) ([]messages.Replay, error) {
	replays := make([]messages.Replay, len(refs))

	for i, ref := range refs {
		id, err := messages.NewReplayID()
		if err != nil {
			return nil, err
		}

		replays[i] = messages.Replay{
			ID:         id,
			TenantID:   r.TenantID,
			MessageID:  ref.MessageID,
			EndpointID: ref.EndpointID,
			Kind:       messages.ReplayRecover,
			RecoveryID: r.ID,
			Actor:      r.Actor,
			CreatedAt:  now,
		}
	}

	return replays, nil
}

func scanRef(row scanner) (messages.Ref, error) {
	var ref messages.Ref
	err := row.Scan(&ref.MessageID, &ref.EndpointID, &ref.Round)

	return ref, err
}

// scanRecovery scans a row of recoveryColumns into r, and the columns
// after them into extra.
func scanRecovery(row scanner, r *messages.Recovery, extra ...any) error {
	dest := make([]any, 0, 13+len(extra))
	dest = append(dest, &r.ID, &r.TenantID, &r.EndpointID, timeColumn{&r.Since},
		timeColumn{&r.Until}, &r.Status, &r.Total, &r.Queued, &r.JobID, &r.Actor, &r.Reason,
		timeColumn{&r.CreatedAt}, timeColumn{&r.UpdatedAt})
	dest = append(dest, extra...)

	return row.Scan(dest...)
}
