package postgres

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// Enqueuer queues jobs inside a transaction of the store's: the delivery
// jobs of a publish or a replay, and the job of a recovery.
type Enqueuer interface {
	EnqueueDeliveries(ctx context.Context, tx pgx.Tx, refs []messages.Ref) error
	EnqueueRecovery(ctx context.Context, tx pgx.Tx, recoveryID string) (int64, error)
}

// WithEnqueue returns a copy of s that queues jobs through enqueue when it
// publishes or replays.
func (s *Store) WithEnqueue(enqueue Enqueuer) *Store {
	c := *s
	c.enqueue = enqueue

	return &c
}

// PublishMessage stores m, a pending delivery for every enabled endpoint of
// its tenant whose filter matches its event type, and their jobs, all in one
// transaction. A reused event id answers the original message, or
// [messages.ErrConflict] when the body differs. The store must have been
// made by [Store.WithEnqueue].
func (s *Store) PublishMessage(ctx context.Context, m messages.Message) (messages.Published, error) {
	results, err := s.publishAll(ctx, []messages.Message{m}, true)
	if err != nil {
		return messages.Published{}, err
	}

	return results[0].Published, results[0].Err
}

// PublishMessages publishes ms as [Store.PublishMessage] does, all in one
// transaction of a few statements whatever their number. A message of an
// unknown tenant, or reusing an event id with another body, has its error
// in its result. It waits for a row lock only briefly, and returns
// [messages.ErrLocked] past that: a tenant or endpoint being deleted holds
// up only the caller that publishes to it alone.
func (s *Store) PublishMessages(ctx context.Context, ms []messages.Message) ([]messages.PublishResult, error) {
	return s.publishAll(ctx, ms, false)
}

// publishAll publishes ms in one transaction, waiting for row locks as
// long as it takes when wait is set.
func (s *Store) publishAll(ctx context.Context, ms []messages.Message, wait bool) ([]messages.PublishResult, error) {
	if s.enqueue == nil {
		return nil, errors.New("publish messages: the store cannot enqueue jobs")
	}

	var results []messages.PublishResult

	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error

		results, err = s.publish(ctx, tx, ms, wait)

		return err
	})
	if err != nil {
		return nil, locked(err)
	}

	return results, nil
}

// publish is [Store.PublishMessages] in tx.
func (s *Store) publish(
	ctx context.Context, tx pgx.Tx, ms []messages.Message, wait bool,
) ([]messages.PublishResult, error) {
	results := make([]messages.PublishResult, len(ms))

	tenants, endpoints, err := publishTargets(ctx, tx, ms, wait)
	if err != nil {
		return nil, err
	}

	var (
		insert   publishRows
		accepted []int // indexes in ms of the messages of known tenants
	)

	for i, m := range ms {
		if _, ok := tenants[m.TenantID]; !ok {
			results[i].Err = subscriptions.ErrTenantNotFound
			continue
		}

		accepted = append(accepted, i)
	}

	// In the order of the unique index on event ids, so that two batches
	// taking the same event ids take them in the same order, and neither
	// waits for the other while holding what it waits for.
	slices.SortStableFunc(accepted, func(i, j int) int {
		return cmp.Or(cmp.Compare(ms[i].TenantID, ms[j].TenantID), cmp.Compare(ms[i].EventID, ms[j].EventID))
	})

	for _, i := range accepted {
		insert.add(ms[i], endpoints[ms[i].TenantID])
	}

	if len(accepted) == 0 {
		return results, nil
	}

	inserted, err := insert.exec(ctx, tx)
	if err != nil {
		return nil, err
	}

	var (
		refs     []messages.Ref
		replayed []int
	)

	for _, i := range accepted {
		m := ms[i]
		if _, ok := inserted[m.ID]; !ok {
			replayed = append(replayed, i) // its event id is taken
			continue
		}

		ids := insert.endpoints[m.ID]
		refs = append(refs, messages.Refs(m.ID, ids)...)
		results[i].Published = messages.Published{Message: m, Endpoints: len(ids)}
	}

	if len(refs) > 0 {
		if err := s.enqueue.EnqueueDeliveries(ctx, tx, refs); err != nil {
			return nil, fmt.Errorf("enqueue deliveries: %w", err)
		}
	}

	// After the deliveries are in, so that an original published earlier in
	// this batch counts its own.
	if err := replays(ctx, tx, ms, replayed, results); err != nil {
		return nil, err
	}

	return results, nil
}

// candidate is an enabled endpoint that a message of its tenant may go to.
type candidate struct {
	id     string
	filter []string
}

// publishTargets returns which tenants of ms exist and their enabled
// endpoints in order of id, in one round trip. It locks both against
// deletion until the transaction ends, so that no message or delivery is
// written for one deleted in the meantime; one whose deletion commits
// first is left out. Unless wait is set, the transaction waits for row
// locks no longer than lockTimeout.
func publishTargets(
	ctx context.Context, tx pgx.Tx, ms []messages.Message, wait bool,
) (map[string]struct{}, map[string][]candidate, error) {
	tenantIDs := make([]string, 0, 1)
	for _, m := range ms {
		if !slices.Contains(tenantIDs, m.TenantID) {
			tenantIDs = append(tenantIDs, m.TenantID)
		}
	}

	var (
		b         pgx.Batch
		tenants   = make(map[string]struct{}, len(tenantIDs))
		endpoints = make(map[string][]candidate, len(tenantIDs))
	)

	if !wait {
		b.Queue(lockTimeout)
	}

	b.Queue("SELECT id FROM tenants WHERE id = ANY($1) FOR KEY SHARE", tenantIDs).
		Query(func(rows pgx.Rows) error {
			var id string

			_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
				tenants[id] = struct{}{}
				return nil
			})

			return err //nolint:wrapcheck // wrapped below
		})

	b.Queue(`SELECT id, tenant_id, event_types FROM endpoints
		WHERE tenant_id = ANY($1) AND NOT disabled ORDER BY id FOR KEY SHARE`, tenantIDs).
		Query(func(rows pgx.Rows) error {
			var c candidate

			var tenantID string

			_, err := pgx.ForEachRow(rows, []any{&c.id, &tenantID, &c.filter}, func() error {
				endpoints[tenantID] = append(endpoints[tenantID], c)
				return nil
			})

			return err //nolint:wrapcheck // wrapped below
		})

	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, nil, fmt.Errorf("find tenants and endpoints: %w", err)
	}

	return tenants, endpoints, nil
}

// publishRows holds the columns of the messages of a publish and of their
// deliveries, for one statement that writes them all.
type publishRows struct {
	ids, tenants, types, eventIDs []string
	payloads, hashes              [][]byte
	created                       []time.Time

	// The deliveries: one row per message and matching endpoint.
	dMessages, dEndpoints, dTenants, dTypes []string
	dCreated                                []time.Time

	// endpoints maps each message id to the endpoints it goes to.
	endpoints map[string][]string
}

// add appends m, and its deliveries to the candidates its event type
// matches.
func (r *publishRows) add(m messages.Message, candidates []candidate) {
	r.ids = append(r.ids, m.ID)
	r.tenants = append(r.tenants, m.TenantID)
	r.types = append(r.types, m.EventType)
	r.eventIDs = append(r.eventIDs, m.EventID)
	r.payloads = append(r.payloads, m.Payload)
	r.hashes = append(r.hashes, m.BodyHash[:])
	r.created = append(r.created, m.CreatedAt)

	if r.endpoints == nil {
		r.endpoints = make(map[string][]string)
	}

	var ids []string

	for _, c := range candidates {
		if !messages.Matches(c.filter, m.EventType) {
			continue
		}

		ids = append(ids, c.id)
		r.dMessages = append(r.dMessages, m.ID)
		r.dEndpoints = append(r.dEndpoints, c.id)
		r.dTenants = append(r.dTenants, m.TenantID)
		r.dTypes = append(r.dTypes, m.EventType)
		r.dCreated = append(r.dCreated, m.CreatedAt)
	}

	r.endpoints[m.ID] = ids
}

// publishQuery inserts messages whose event id is free, and the deliveries
// of those it inserted, and returns the ids it inserted. The foreign keys
// of the deliveries see the messages inserted before them in the statement.
const publishQuery = `WITH inserted AS (
		INSERT INTO messages (id, tenant_id, event_type, event_id, payload, body_hash, created_at)
		SELECT id, tenant_id, event_type, NULLIF(event_id, ''), payload, body_hash, created_at
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::bytea[],
			$7::timestamptz[]) AS m(id, tenant_id, event_type, event_id, payload, body_hash, created_at)
		ON CONFLICT (tenant_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
		RETURNING id
	), deliveries AS (
		INSERT INTO deliveries (message_id, endpoint_id, tenant_id, event_type, status, updated_at)
		SELECT message_id, endpoint_id, tenant_id, event_type, 'pending', updated_at
		FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])
			AS d(message_id, endpoint_id, tenant_id, event_type, updated_at)
		WHERE message_id IN (SELECT id FROM inserted)
	)
	SELECT id FROM inserted`

// exec writes the rows and returns the ids of the messages inserted.
func (r *publishRows) exec(ctx context.Context, tx pgx.Tx) (map[string]struct{}, error) {
	rows, err := tx.Query(ctx, publishQuery,
		r.ids, r.tenants, r.types, r.eventIDs, r.payloads, r.hashes, r.created,
		r.dMessages, r.dEndpoints, r.dTenants, r.dTypes, r.dCreated)
	if err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}

	var (
		inserted = make(map[string]struct{}, len(r.ids))
		id       string
	)

	_, err = pgx.ForEachRow(rows, []any{&id}, func() error {
		inserted[id] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}

	return inserted, nil
}

// replays answers the messages of ms at indexes whose event id is taken,
// with the original message or [messages.ErrConflict].
func replays(
	ctx context.Context, tx pgx.Tx, ms []messages.Message, indexes []int, results []messages.PublishResult,
) error {
	if len(indexes) == 0 {
		return nil
	}

	tenants := make([]string, len(indexes))
	eventIDs := make([]string, len(indexes))

	for j, i := range indexes {
		tenants[j], eventIDs[j] = ms[i].TenantID, ms[i].EventID
	}

	const query = "SELECT " + messageColumns + `,
		(SELECT count(*) FROM deliveries d WHERE d.message_id = m.id)
		FROM messages m
		JOIN unnest($1::text[], $2::text[]) AS k(tenant_id, event_id)
			ON m.tenant_id = k.tenant_id AND m.event_id = k.event_id`

	rows, err := tx.Query(ctx, query, tenants, eventIDs)
	if err != nil {
		return fmt.Errorf("read published messages: %w", err)
	}
	defer rows.Close()

	originals := make(map[[2]string]messages.Published, len(indexes))

	for rows.Next() {
		var (
			orig  messages.Message
			count int
		)

		if err := scanMessage(rows, &orig, &count); err != nil {
			return fmt.Errorf("read published messages: %w", err)
		}

		originals[[2]string{orig.TenantID, orig.EventID}] = messages.Published{
			Message: orig, Endpoints: count, Replayed: true,
		}
	}

	if err := rows.Err(); err != nil {
		return fmt.Errorf("read published messages: %w", err)
	}

	for _, i := range indexes {
		orig, ok := originals[[2]string{ms[i].TenantID, ms[i].EventID}]

		switch {
		case !ok:
			return fmt.Errorf("read published messages: event id %q of tenant %q not found",
				ms[i].EventID, ms[i].TenantID)
		case !bytes.Equal(orig.Message.BodyHash[:], ms[i].BodyHash[:]):
			results[i].Err = messages.ErrConflict
		default:
			results[i].Published = orig
		}
	}

	return nil
}

const messageColumns = `m.id, m.tenant_id, m.event_type, COALESCE(m.event_id, ''), m.payload,
	m.body_hash, m.created_at`

func scanMessage(row pgx.Row, m *messages.Message, extra ...any) error {
	var hash []byte

	dest := append([]any{&m.ID, &m.TenantID, &m.EventType, &m.EventID, &m.Payload, &hash, &m.CreatedAt}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err //nolint:wrapcheck // wrapped by the caller
	}

	copy(m.BodyHash[:], hash)
	m.CreatedAt = m.CreatedAt.UTC()

	return nil
}

// GetMessage returns the tenant's message with id and its deliveries, or
// [messages.ErrNotFound].
func (s *Store) GetMessage(ctx context.Context, tenantID, id string) (messages.Message, []messages.Delivery, error) {
	var m messages.Message

	const query = "SELECT " + messageColumns + " FROM messages m WHERE id = $1 AND tenant_id = $2"

	row := s.pool.QueryRow(ctx, query, id, tenantID)
	if err := scanMessage(row, &m); errors.Is(err, pgx.ErrNoRows) {
		return messages.Message{}, nil, messages.ErrNotFound
	} else if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get message: %w", err)
	}

	const deliveriesQuery = "SELECT " + deliveryColumns + `
		FROM deliveries d WHERE d.message_id = $1 ORDER BY d.endpoint_id`

	rows, err := s.pool.Query(ctx, deliveriesQuery, id)
	if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get deliveries: %w", err)
	}

	deliveries, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return messages.Message{}, nil, fmt.Errorf("get deliveries: %w", err)
	}

	return m, deliveries, nil
}

const deliveryColumns = `d.message_id, d.endpoint_id, d.tenant_id, d.event_type, d.status,
	d.attempts, d.next_attempt_at, d.reason, d.round, d.round_start, d.updated_at`

func scanDelivery(row pgx.CollectableRow) (messages.Delivery, error) {
	var (
		d    messages.Delivery
		next *time.Time
	)

	err := row.Scan(&d.MessageID, &d.EndpointID, &d.TenantID, &d.EventType, &d.Status,
		&d.Attempts, &next, &d.Reason, &d.Round, &d.RoundStart, &d.UpdatedAt)
	if err != nil {
		return messages.Delivery{}, err //nolint:wrapcheck // wrapped by the caller
	}

	if next != nil {
		d.NextAttemptAt = next.UTC()
	}

	d.UpdatedAt = d.UpdatedAt.UTC()

	return d, nil
}
