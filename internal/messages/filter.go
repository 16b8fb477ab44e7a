package messages

import "time"

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
