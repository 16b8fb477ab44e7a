package messages

import (
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/subscriptions"
)

// DeliveryFilter narrows a listing of deliveries. Zero fields match all.
type DeliveryFilter struct {
	Status     Status
	EventType  string
	EndpointID string

	// Since and Until bound the creation time of the message, Since
	// included and Until not.
	Since time.Time
	Until time.Time
}

// DeliveryKey places a delivery in a listing, which is ordered by message
// id, newest first, then by endpoint id.
type DeliveryKey struct {
	MessageID  string
	EndpointID string
}

// Key returns the place of d in a listing.
func (d Delivery) Key() DeliveryKey {
	return DeliveryKey{MessageID: d.MessageID, EndpointID: d.EndpointID}
}

// String returns the key as text, for a cursor: the message id and the
// endpoint id, separated by a space, which no id holds.
func (k DeliveryKey) String() string {
	return k.MessageID + " " + k.EndpointID
}

// ParseDeliveryKey reads the text of [DeliveryKey.String], and reports
// false for text of another form.
func ParseDeliveryKey(s string) (DeliveryKey, bool) {
	messageID, endpointID, _ := strings.Cut(s, " ")
	if ValidateID(messageID) != nil || subscriptions.ValidateEndpointID(endpointID) != nil {
		return DeliveryKey{}, false
	}

	return DeliveryKey{MessageID: messageID, EndpointID: endpointID}, true
}

// AttemptFilter narrows a listing of attempts. Zero fields match all.
type AttemptFilter struct {
	// Succeeded keeps only the attempts that succeeded, or only those
	// that failed, when set.
	Succeeded *bool

	// EventType keeps only the attempts of messages of that type.
	EventType string

	// Since and Until bound the time an attempt started, Since included
	// and Until not.
	Since time.Time
	Until time.Time
}
