package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/messages"
)

// Placeholders, replaced by the real implementations.

var errTODO = errors.New("not implemented")

func (s *Store) ListDeliveries(
	ctx context.Context, tenantID string, f messages.DeliveryFilter, before messages.DeliveryKey, limit int,
) ([]messages.Delivery, error) {
	return nil, errTODO
}

func (s *Store) EndpointHealth(ctx context.Context, tenantID, endpointID string) (messages.Health, error) {
	return messages.Health{}, errTODO
}

func (s *Store) RecordBreakerState(ctx context.Context, endpointID, state string, at time.Time) error {
	return errTODO
}

func (s *Store) Resend(ctx context.Context, r messages.Replay) (messages.Delivery, error) {
	return messages.Delivery{}, errTODO
}

func (s *Store) ListReplays(ctx context.Context, tenantID, messageID string, limit int) ([]messages.Replay, error) {
	return nil, errTODO
}

func (s *Store) CreateRecovery(ctx context.Context, r messages.Recovery) (messages.Recovery, error) {
	return messages.Recovery{}, errTODO
}

func (s *Store) GetRecovery(ctx context.Context, tenantID, endpointID, id string) (messages.Recovery, error) {
	return messages.Recovery{}, errTODO
}

func (s *Store) ListRecoveries(
	ctx context.Context, tenantID, endpointID, before string, limit int,
) ([]messages.Recovery, error) {
	return nil, errTODO
}

func (s *Store) RecoverNext(ctx context.Context, id string, batch int) (messages.Recovery, error) {
	return messages.Recovery{}, errTODO
}

func (s *Store) CreateSession(ctx context.Context, se auth.Session) error {
	return errTODO
}

func (s *Store) GetSession(ctx context.Context, tokenHash [sha256.Size]byte, now time.Time) (auth.Session, error) {
	return auth.Session{}, errTODO
}

func (s *Store) DeleteSession(ctx context.Context, tokenHash [sha256.Size]byte) error {
	return errTODO
}
