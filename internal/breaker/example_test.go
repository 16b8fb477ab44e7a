package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/breaker"
)

func ExampleRegistry_Acquire() {
	r := breaker.NewRegistry(breaker.Settings{Failures: 2, Cooldown: time.Minute})

	for range 3 {
		release, wait, err := r.Acquire(context.Background(), "ep_1")
		if errors.Is(err, breaker.ErrOpen) || errors.Is(err, breaker.ErrBusy) {
			// A delivery job returns river.JobSnooze(wait) here.
			fmt.Println(err, wait > 59*time.Second)
			continue
		}

		// The request goes out here; say the endpoint answers 503.
		release(false)
		fmt.Println("sent, failed")
	}

	fmt.Println(r.State("ep_1"))
	// Output:
	// sent, failed
	// sent, failed
	// breaker: open true
	// open
}
