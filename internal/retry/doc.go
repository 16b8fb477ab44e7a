// Package retry decides when Herald tries a failed webhook delivery again.
//
// A [Schedule] lists the waits between attempts. The first attempt goes out
// at once; after it fails, Herald waits Schedule[0], then Schedule[1] after
// the second failure, and so on until the schedule runs out. [DefaultSchedule]
// spreads ten attempts over about three days. Operators replace it with
// HERALD_RETRY_SCHEDULE, a comma-separated list of Go durations that
// [ParseSchedule] reads.
//
// [Schedule.Next] applies random jitter to each wait, so that deliveries
// which failed together do not all retry in the same instant.
//
// A receiver that answers 429 Too Many Requests or 503 Service Unavailable
// may say how long to wait in a Retry-After header. [RetryAfter] reads that
// header and keeps the wait between [MinRetryAfter] and [MaxRetryAfter], so
// that a receiver can neither make Herald hammer it nor park a delivery for
// weeks.
package retry
