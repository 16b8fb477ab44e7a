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
	Replays
	APIKeys
	Sessions
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

// Messages keeps published messages and searches their deliveries and
// attempts. Listings are newest first and read the page that comes after
// the before key; an empty key starts at the newest. Ids sort by creation
// time, so a listing is ordered by id, which inserts never reorder.
//
// ListEndpointAttempts filters by outcome, by the message's event type and
// by a window on the attempt's id, [messages.IDAt] of Since and Until. It
// returns [subscriptions.ErrEndpointNotFound] when the tenant has no such
// endpoint.
//
// ListDeliveries lists the tenant's deliveries by message id, newest first,
// then endpoint id, newest first; the window bounds the message id. It
// returns [subscriptions.ErrTenantNotFound] when there is no such tenant.
//
// PublishMessages publishes several messages in one transaction, each as
// PublishMessage does, and returns one result per message, in order. A
// message refused on its own (an unknown tenant, a conflicting event id)
// has its error in its result and does not hold the others back; an error
// of the whole transaction is returned alone, and then nothing was stored.
//
// EndpointHealth reads the endpoint's breaker state and its newest
// [messages.HealthWindow] attempts, or returns
// [subscriptions.ErrEndpointNotFound].
type Messages interface {
	PublishMessage(ctx context.Context, m messages.Message) (messages.Published, error)
	PublishMessages(ctx context.Context, ms []messages.Message) ([]messages.PublishResult, error)
	GetMessage(ctx context.Context, tenantID, id string) (messages.Message, []messages.Delivery, error)
	ListMessageAttempts(
		ctx context.Context, tenantID, messageID, before string, limit int,
	) ([]messages.Attempt, error)
	ListEndpointAttempts(
		ctx context.Context, tenantID, endpointID string, f messages.AttemptFilter, before string, limit int,
	) ([]messages.Attempt, error)
	ListDeliveries(
		ctx context.Context, tenantID string, f messages.DeliveryFilter, before messages.DeliveryKey, limit int,
	) ([]messages.Delivery, error)
	EndpointHealth(ctx context.Context, tenantID, endpointID string) (messages.Health, error)
}

// Deliveries is what the delivery worker reads and records.
//
// LoadTargets reads the targets of several deliveries at once; a delivery
// that is gone (its message or endpoint was deleted) is missing from the
// map. RecordAttempts stores several attempts and the states of their
// deliveries, as RecordAttempt does for one, and queues the delivery jobs
// of refs, all in one transaction.
type Deliveries interface {
	LoadTarget(ctx context.Context, messageID, endpointID string) (messages.Target, error)
	LoadTargets(ctx context.Context, keys []messages.DeliveryKey) (map[messages.DeliveryKey]messages.Target, error)
	RecordAttempt(ctx context.Context, a messages.Attempt, status messages.Status, reason string) error
	RecordAttempts(ctx context.Context, records []messages.Record, refs []messages.Ref) error
	RecordGone(ctx context.Context, a messages.Attempt, reason string) error
	FailDelivery(ctx context.Context, f messages.Failure) error
	DisableEndpoint(ctx context.Context, endpointID, reason string) error
	RecordBreakerState(ctx context.Context, endpointID, state string, at time.Time) error
}

// Replays sends deliveries again on request and keeps the record of who
// asked. A replay starts a new round of the delivery: it is pending again,
// with the same webhook id and a fresh retry schedule, and its job is
// queued in the same transaction.
//
// Resend replays one delivery whatever its state, making it when the
// message never went to that endpoint, and records r. It returns
// [messages.ErrNotFound] for a missing message,
// [subscriptions.ErrEndpointNotFound] for a missing endpoint, and
// [subscriptions.ErrEndpointDisabled] for a disabled one.
//
// ListReplays returns the message's newest replays, or
// [messages.ErrNotFound].
//
// CreateRecovery counts the endpoint's failed deliveries in the window,
// stores the recovery with that Total and queues the job that works it,
// returning the recovery with Total and JobID set. It fails as Resend
// does for a missing or disabled endpoint.
//
// RecoverNext replays the next batch of the recovery's failed deliveries
// in message id order, from where the last batch stopped, in one
// transaction that also records progress. It marks the recovery done when
// the window is exhausted, and canceled when its endpoint is disabled. It
// returns the recovery as it stands, or [messages.ErrRecoveryNotFound].
type Replays interface {
	Resend(ctx context.Context, r messages.Replay) (messages.Delivery, error)
	ListReplays(ctx context.Context, tenantID, messageID string, limit int) ([]messages.Replay, error)
	CreateRecovery(ctx context.Context, r messages.Recovery) (messages.Recovery, error)
	GetRecovery(ctx context.Context, tenantID, endpointID, id string) (messages.Recovery, error)
	ListRecoveries(
		ctx context.Context, tenantID, endpointID, before string, limit int,
	) ([]messages.Recovery, error)
	RecoverNext(ctx context.Context, id string, batch int) (messages.Recovery, error)
}

// APIKeys keeps the hashes of API keys.
type APIKeys interface {
	CreateFirstAPIKey(ctx context.Context, key auth.Key) (bool, error)
	APIKeyHashes(ctx context.Context) ([][sha256.Size]byte, error)
}

// Sessions keeps console sessions. GetSession returns
// [auth.ErrSessionNotFound] for an unknown token, and for a session
// expired at now.
type Sessions interface {
	CreateSession(ctx context.Context, s auth.Session) error
	GetSession(ctx context.Context, tokenHash [sha256.Size]byte, now time.Time) (auth.Session, error)
	DeleteSession(ctx context.Context, tokenHash [sha256.Size]byte) error
}
