package retry_test

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/retry"
)

func ExampleParseSchedule() {
	sched, err := retry.ParseSchedule("1s, 2s, 1h30m")
	if err != nil {
		panic(err)
	}
	fmt.Println(sched, "allows", sched.Attempts(), "attempts")

	_, err = retry.ParseSchedule("1s,2d")
	fmt.Println(err)
	// Output:
	// 1s,2s,1h30m allows 4 attempts
	// retry schedule: item 2: time: unknown unit "d" in duration "2d"
}

func ExampleSchedule_Next() {
	sched := retry.Schedule{5 * time.Second, 5 * time.Minute}

	// With no jitter, the waits are the schedule's own. Production code
	// passes a jitter such as 0.2 and a nil *rand.Rand.
	for failed := 1; ; failed++ {
		wait, ok := sched.Next(failed, 0, nil)
		if !ok {
			fmt.Printf("attempt %d failed: give up\n", failed)
			break
		}
		fmt.Printf("attempt %d failed: retry in %s\n", failed, wait)
	}
	// Output:
	// attempt 1 failed: retry in 5s
	// attempt 2 failed: retry in 5m0s
	// attempt 3 failed: give up
}

func ExampleRetryAfter() {
	now := time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)

	fmt.Println(retry.RetryAfter("120", now))
	fmt.Println(retry.RetryAfter("Wed, 21 Oct 2015 07:30:00 GMT", now))
	fmt.Println(retry.RetryAfter("0", now))
	fmt.Println(retry.RetryAfter("tomorrow", now))
	// Output:
	// 2m0s true
	// 2m0s true
	// 1s true
	// 0s false
}
