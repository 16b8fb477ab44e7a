package signing_test

import (
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/signing"
)

func ExampleSign() {
	secret, err := signing.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}

	ts := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	fmt.Println(signing.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body, secret))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleVerify() {
	secret, err := signing.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}

	var (
		msgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = time.Unix(1614265330, 0)
		body   = []byte(`{"test": 2432232314}`)
		header = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
		now    = ts.Add(time.Minute)
	)
	fmt.Println(signing.Verify(secret, msgID, ts, body, header, now, 0))
	fmt.Println(signing.Verify(secret, msgID, ts, body, header, now.Add(time.Hour), 0))
	fmt.Println(signing.Verify(secret, msgID, ts, []byte("{}"), header, now, 0))
	// Output:
	// <nil>
	// signing: timestamp out of range: more than 5m0s old
	// signing: invalid signature
}

func ExampleSecret_String() {
	secret, err := signing.NewSecret()
	if err != nil {
		panic(err)
	}

	fmt.Println(secret)
	fmt.Printf("%x\n", secret)
	// Output:
	// whsec_[redacted]
	// whsec_[redacted]
}
