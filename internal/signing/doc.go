// Package signing signs webhooks the way the Standard Webhooks specification
// (version 1) describes, and verifies such signatures.
//
// A [Secret] holds the raw HMAC key. Its text form is "whsec_" followed by
// the key in standard base64; [ParseSecret] reads that form and
// [Secret.Encode] writes it. A secret never prints or logs its key: use
// [Secret.Encode] when the key itself must be shown or stored.
//
// [Sign] computes the value of the webhook-signature header: for each
// secret, "v1," and the base64 HMAC-SHA256 of the message ID, the Unix
// timestamp in seconds and the body, joined by dots. [Verify] checks such a
// header the way a receiver does.
package signing
