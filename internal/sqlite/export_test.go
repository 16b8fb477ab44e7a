package sqlite

// The queries built for the filters of a search, for the tests of their
// plans.
var (
	EndpointAttemptsQuery = endpointAttemptsQuery
	DeliveriesQuery       = deliveriesQuery
)
