package messages

import (
	"errors"
	"fmt"
	"time"

	"go.jetify.com/typeid"

	"github.com/heraldhq/herald/internal/validation"
)

// ErrRecoveryNotFound is returned when the endpoint has no recovery with
// the given id.
var ErrRecoveryNotFound = errors.New("messages: recovery not found")

// Ref names one round of one delivery: what a delivery job sends.
type Ref struct {
	MessageID  string
	EndpointID string

	// Round is the delivery's round when the job was queued: 0 from
	// publishing, one more for each replay. A job whose round is not the
	// delivery's current one sends nothing.
	Round int

	// At is when the job may start; zero means at once.
	At time.Time
}

// ReplayKind says how a replay was asked for.
type ReplayKind string

// The kinds of replay.
const (
	// ReplayResend is one delivery sent again on request.
	ReplayResend ReplayKind = "resend"

	// ReplayRecover is one delivery of many sent again by a [Recovery].
	ReplayRecover ReplayKind = "recover"
)

// Replay records a request to send a delivery again, whatever its state:
// the delivery starts a new round, with the same webhook id and a fresh
// retry schedule.
type Replay struct {
	ID         string
	TenantID   string
	MessageID  string
	EndpointID string
	Kind       ReplayKind

	// RecoveryID names the recovery that queued this replay; empty for a
	// resend.
	RecoveryID string

	// Actor is who asked: the fingerprint of the API key used, see
	// [auth.Fingerprint], with " (console)" when asked from the console.
	Actor string

	CreatedAt time.Time
}

// RecoveryStatus is where a recovery stands.
type RecoveryStatus string

// The states of a recovery.
const (
	// RecoveryRunning recoveries have deliveries left to queue.
	RecoveryRunning RecoveryStatus = "running"

	// RecoveryDone recoveries have queued every delivery of their window.
	RecoveryDone RecoveryStatus = "done"

	// RecoveryCanceled recoveries stopped before the end of their window,
	// because their endpoint was disabled; Reason says so.
	RecoveryCanceled RecoveryStatus = "canceled"
)

// Recovery sends again every failed delivery to one endpoint of the
// messages created in [Since, Until). A background job queues them in
// batches; Queued counts those queued so far.
type Recovery struct {
	ID         string
	TenantID   string
	EndpointID string
	Since      time.Time
	Until      time.Time
	Status     RecoveryStatus

	// Total is how many failed deliveries the window held when the
	// recovery was asked for: the number it expects to queue.
	Total int

	// Queued counts the deliveries queued so far. It can end above Total
	// when deliveries of the window failed while the recovery ran.
	Queued int

	// JobID is the River job that queues the deliveries.
	JobID int64

	// Actor is who asked, as in [Replay].
	Actor string

	// Reason says why a canceled recovery stopped.
	Reason string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Id prefixes of replays and recoveries.
const (
	replayIDPrefix   = "rpl"
	recoveryIDPrefix = "rcv"
)

// NewResend returns the record of actor resending the tenant's message to
// the endpoint, with a fresh id.
func NewResend(tenantID, messageID, endpointID, actor string) (Replay, error) {
	id, err := NewReplayID()
	if err != nil {
		return Replay{}, err
	}

	return Replay{
		ID:         id,
		TenantID:   tenantID,
		MessageID:  messageID,
		EndpointID: endpointID,
		Kind:       ReplayResend,
		Actor:      actor,
		CreatedAt:  time.Now().UTC().Truncate(time.Microsecond),
	}, nil
}

// NewReplayID returns a fresh replay id.
func NewReplayID() (string, error) {
	id, err := typeid.WithPrefix(replayIDPrefix)
	if err != nil {
		return "", fmt.Errorf("new replay id: %w", err)
	}

	return id.String(), nil
}

// MaxRecoveryWindow bounds how far back a recovery reaches: a little more
// than the default retry schedule keeps a delivery going.
const MaxRecoveryWindow = 30 * 24 * time.Hour

// NewRecovery returns the recovery, asked for by actor, of the endpoint's
// failed deliveries of the messages created in [since, until), with a fresh
// id. A zero until means now. It returns a [*validation.Error] naming the
// invalid field when the window is empty, in the future or too long.
func NewRecovery(tenantID, endpointID string, since, until time.Time, actor string) (Recovery, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	if until.IsZero() || until.After(now) {
		until = now
	}

	var errs validation.Errors

	switch {
	case since.IsZero():
		errs.Addf("since", "is required")
	case !since.Before(until):
		errs.Addf("since", "must be before until and before now")
	case until.Sub(since) > MaxRecoveryWindow:
		errs.Addf("since", "must be at most %d days before until", MaxRecoveryWindow/(24*time.Hour))
	}

	if err := errs.Err(); err != nil {
		return Recovery{}, err
	}

	id, err := typeid.WithPrefix(recoveryIDPrefix)
	if err != nil {
		return Recovery{}, fmt.Errorf("new recovery id: %w", err)
	}

	return Recovery{
		ID:         id.String(),
		TenantID:   tenantID,
		EndpointID: endpointID,
		Since:      since.UTC().Truncate(time.Microsecond),
		Until:      until.UTC().Truncate(time.Microsecond),
		Status:     RecoveryRunning,
		Actor:      actor,
		CreatedAt:  now,
		UpdatedAt:  now,
	}, nil
}

// ValidateRecoveryID reports whether id has the form of a recovery id.
func ValidateRecoveryID(id string) error {
	tid, err := typeid.FromString(id)
	if err != nil || tid.Prefix() != recoveryIDPrefix {
		return validation.Fail("recovery_id", "must be a recovery id such as rcv_01jbq6q6ffe5x9qf2a8n1c3m4z")
	}

	return nil
}

// Refs names the first round of the message's delivery to each endpoint.
func Refs(messageID string, endpointIDs []string) []Ref {
	refs := make([]Ref, len(endpointIDs))
	for i, id := range endpointIDs {
		refs[i] = Ref{MessageID: messageID, EndpointID: id}
	}

	return refs
}
