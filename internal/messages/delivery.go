package messages

import (
	"time"

	"github.com/heraldhq/herald/internal/subscriptions"
)

// Status is where a delivery stands.
type Status string

// The states of a delivery.
const (
	// StatusPending deliveries have attempts to come.
	StatusPending Status = "pending"

	// StatusSucceeded deliveries had an attempt answered with 2xx.
	StatusSucceeded Status = "succeeded"

	// StatusFailed deliveries were given up: their schedule ran out, or
	// their endpoint was disabled or answered 410 Gone.
	StatusFailed Status = "failed"
)

// Delivery is the state of one message at one endpoint.
type Delivery struct {
	MessageID  string
	EndpointID string
	TenantID   string
	EventType  string
	Status     Status

	// Attempts counts the HTTP tries so far.
	Attempts int

	// NextAttemptAt is when the next try is due; zero when none is.
	NextAttemptAt time.Time

	// Reason says why a failed delivery was given up.
	Reason string

	// Round counts the replays of the delivery: 0 until it is first sent
	// again. RoundStart is how many attempts came before the current
	// round; each round follows the retry schedule from its start.
	Round      int
	RoundStart int

	UpdatedAt time.Time
}

// Target is what sending one delivery needs: its state, the payload and
// the endpoint.
type Target struct {
	Delivery Delivery
	Payload  []byte
	Endpoint subscriptions.Endpoint
}

// Attempt is one HTTP try of a delivery.
type Attempt struct {
	ID         string
	MessageID  string
	EndpointID string

	// Number counts the tries of the delivery from 1.
	Number int

	StartedAt time.Time
	Duration  time.Duration

	// StatusCode is the HTTP status answered; 0 when no answer came.
	StatusCode int

	// ResponseBody holds the first bytes of the answer's body.
	ResponseBody []byte

	// Error describes the transport failure or the reason the answer is a
	// failure; empty on success.
	Error string

	Succeeded bool

	// NextAttemptAt is when the delivery is tried again; zero when it is not.
	NextAttemptAt time.Time

	// Round is the round of the delivery this attempt belongs to. Its
	// outcome changes the delivery's state only while that round is
	// current.
	Round int
}

// Failure is a delivery to give up without an attempt, and why: that of
// MessageID to EndpointID, while it is pending in round Round and, when
// Untried is set, has had no attempt in that round. The conditions keep a
// job from giving up a delivery that another job has since taken over.
type Failure struct {
	MessageID  string
	EndpointID string
	Round      int
	Untried    bool
	Reason     string
}

// Record is an attempt to store, with the state its delivery is in after
// it: Status, and Reason when the delivery is given up.
type Record struct {
	Attempt Attempt
	Status  Status
	Reason  string
}

// Matches reports whether an endpoint filter accepts eventType: an empty
// filter or "*" accepts all, "invoice.*" accepts every type under
// "invoice.", and any other item accepts that exact type.
func Matches(filter []string, eventType string) bool {
	if len(filter) == 0 {
		return true
	}

	for _, item := range filter {
		if item == "*" || item == eventType {
			return true
		}

		if prefix, ok := cutWildcard(item); ok && len(eventType) > len(prefix) &&
			eventType[:len(prefix)] == prefix {
			return true
		}
	}

	return false
}

// cutWildcard returns "invoice." for "invoice.*".
func cutWildcard(item string) (string, bool) {
	if len(item) < 2 || item[len(item)-2:] != ".*" {
		return "", false
	}

	return item[:len(item)-1], true
}
