// Package store is the contract of Herald's storage: what the API, the
// delivery worker and the commands need of a database. The postgres and
// sqlite packages implement it, and the storetest package checks that both
// keep it.
package store

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/heraldhq/herald/internal/auth"
	"github.com/heraldhq/herald/internal/messages"
	"github.com/heraldhq/herald/internal/subscriptions"
)

// Store reads and writes every resource of Herald. Implementations are
// safe for concurrent use and return the sentinel errors of the
// subscriptions and messages packages for missing or conflicting
// resources.
type Store interface {
	Ping(ctx context.Context) error
	Tenants
	Endpoints
	Messages
	Deliveries
	APIKeys
}

// Tenants keeps tenants.
type Tenants interface {
	PutTenant(ctx context.Context, t subscriptions.Tenant) (subscriptions.Tenant, bool, error)
	GetTenant(ctx context.Context, id string) (subscriptions.Tenant, error)
	ListTenants(ctx context.Context, after string, limit int) ([]subscriptions.Tenant, error)
	DeleteTenant(ctx context.Context, id string) error
}

// Endpoints keeps endpoints and their secrets.
type Endpoints interface {
	CreateEndpoint(ctx context.Context, e subscriptions.Endpoint) error
	GetEndpoint(ctx context.Context, tenantID, id string) (subscriptions.Endpoint, error)
	ListEndpoints(ctx context.Context, tenantID, after string, limit int) ([]subscriptions.Endpoint, error)
	UpdateEndpoint(
		ctx context.Context, tenantID, id string, fn func(*subscriptions.Endpoint) error,
	) (subscriptions.Endpoint, error)
	DeleteEndpoint(ctx context.Context, tenantID, id string) error
	PruneExpiredSecrets(ctx context.Context, t time.Time) (int64, error)
}

// Messages keeps published messages and lists their attempts.
type Messages interface {
	PublishMessage(ctx context.Context, m messages.Message) (messages.Published, error)
	GetMessage(ctx context.Context, tenantID, id string) (messages.Message, []messages.Delivery, error)
	ListMessageAttempts(
		ctx context.Context, tenantID, messageID, before string, limit int,
	) ([]messages.Attempt, error)
	ListEndpointAttempts(
		ctx context.Context, tenantID, endpointID string, succeeded *bool, before string, limit int,
	) ([]messages.Attempt, error)
}

// Deliveries is what the delivery worker reads and records.
type Deliveries interface {
	LoadTarget(ctx context.Context, messageID, endpointID string) (messages.Target, error)
	RecordAttempt(ctx context.Context, a messages.Attempt, status messages.Status, reason string) error
	RecordGone(ctx context.Context, a messages.Attempt, reason string) error
	FailDelivery(ctx context.Context, messageID, endpointID, reason string) error
	DisableEndpoint(ctx context.Context, endpointID, reason string) error
}

// APIKeys keeps the hashes of API keys.
type APIKeys interface {
	CreateFirstAPIKey(ctx context.Context, key auth.Key) (bool, error)
	APIKeyHashes(ctx context.Context) ([][sha256.Size]byte, error)
}
