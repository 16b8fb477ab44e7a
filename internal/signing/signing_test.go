package signing_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald/internal/signing"
)

// The example published by the Standard Webhooks specification.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID  = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specUnix   = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignGolden(t *testing.T) {
	t.Parallel()

	// Apart from the first, the signatures were computed independently with
	// openssl dgst -sha256 -mac HMAC -macopt hexkey:... -binary | base64.
	tests := []struct {
		name   string
		secret string
		msgID  string
		unix   int64
		body   string
		want   string
	}{
		{
			name:   "specification example",
			secret: specSecret,
			msgID:  specMsgID,
			unix:   specUnix,
			body:   specBody,
			want:   specSig,
		},
		{
			name:   "32-byte key",
			secret: "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
			msgID:  "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
			unix:   1700000000,
			body:   `{"type":"invoice.paid","data":{"id":"inv_123"}}`,
			want:   "v1,cvpmtkcK8udLxA6VHwLRtCK/HGJ90A6qBxJYajdO6Ug=",
		},
		{
			name:   "24-byte key, empty body, epoch",
			secret: "whsec_q6urq6urq6urq6urq6urq6urq6urq6ur",
			msgID:  "msg_1",
			unix:   0,
			body:   "",
			want:   "v1,SfQQE45RNbnu63ak/vI2tOK53WHFO9nlcCHbI4KpV4k=",
		},
		{
			name: "64-byte key, negative timestamp",
			secret: "whsec_QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9gYWJjZGVm" +
				"Z2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+fw==",
			msgID: "msg_x",
			unix:  -1,
			body:  "line1\nline2",
			want:  "v1,+HaBG9wSqmFnts4B+EIXAgPmLqWMlvKmmH9Elru8PSg=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			secret, err := signing.ParseSecret(tt.secret)
			require.NoError(t, err)

			ts := time.Unix(tt.unix, 0)
			got := signing.Sign(tt.msgID, ts, []byte(tt.body), secret)
			require.Equal(t, tt.want, got)

			err = signing.Verify(secret, tt.msgID, ts, []byte(tt.body), got, ts, 0)
			require.NoError(t, err)
		})
	}
}

func TestSignIgnoresSubsecond(t *testing.T) {
	t.Parallel()

	secret := mustParse(t, specSecret)
	ts := time.Unix(specUnix, 999_999_999)
	require.Equal(t, specSig, signing.Sign(specMsgID, ts, []byte(specBody), secret))
}

func TestSignNoSecrets(t *testing.T) {
	t.Parallel()

	require.Empty(t, signing.Sign(specMsgID, time.Unix(specUnix, 0), []byte(specBody)))
}

func TestSignMatchesLibrary(t *testing.T) {
	t.Parallel()

	for i := range 50 {
		var (
			secret = randomSecret(t)
			msgID  = "msg_" + strconv.Itoa(i) + "_" + rand.Text()
			ts     = time.Now().Add(time.Duration(randomInt(t, 120)-60) * time.Second)
			body   = randomBytes(t, randomInt(t, 4096))
			header = signing.Sign(msgID, ts, body, secret)
		)

		wh, err := standardwebhooks.NewWebhook(secret.Encode())
		require.NoError(t, err)
		require.NoError(t, wh.Verify(body, webhookHeaders(msgID, ts, header)))

		// And the other way round: the library's signature passes Verify.
		want, err := wh.Sign(msgID, ts, body)
		require.NoError(t, err)
		require.Equal(t, want, header)
		require.NoError(t, signing.Verify(secret, msgID, ts, body, want, time.Now(), 0))
	}
}

func TestSignRotation(t *testing.T) {
	t.Parallel()

	var (
		oldSecret = randomSecret(t)
		newSecret = randomSecret(t)
		msgID     = "msg_rotation"
		ts        = time.Now()
		body      = []byte(`{"rotating":true}`)
		header    = signing.Sign(msgID, ts, body, oldSecret, newSecret)
	)

	entries := strings.Split(header, " ")
	require.Len(t, entries, 2)
	require.Equal(t, signing.Sign(msgID, ts, body, oldSecret), entries[0])
	require.Equal(t, signing.Sign(msgID, ts, body, newSecret), entries[1])

	for _, secret := range []signing.Secret{oldSecret, newSecret} {
		wh, err := standardwebhooks.NewWebhook(secret.Encode())
		require.NoError(t, err)
		require.NoError(t, wh.Verify(body, webhookHeaders(msgID, ts, header)))
		require.NoError(t, signing.Verify(secret, msgID, ts, body, header, ts, 0))
	}

	wh, err := standardwebhooks.NewWebhook(randomSecret(t).Encode())
	require.NoError(t, err)
	require.Error(t, wh.Verify(body, webhookHeaders(msgID, ts, header)))
}

func TestParseSecret(t *testing.T) {
	t.Parallel()

	key32 := bytes.Repeat([]byte{0x5a}, 32)
	tests := []struct {
		name    string
		in      string
		want    signing.Secret
		wantErr string
	}{
		{name: "padded", in: encode(key32), want: key32},
		{
			name: "unpadded",
			in:   strings.TrimRight(encode(key32), "="),
			want: key32,
		},
		{
			name: "24 bytes",
			in:   encode(make([]byte, 24)),
			want: make([]byte, 24),
		},
		{
			name: "64 bytes",
			in:   encode(make([]byte, 64)),
			want: make([]byte, 64),
		},
		{
			name: "spec example",
			in:   specSecret,
			want: decodeHex(t, "31f290f6bf06298aab4f08d43c3f082cf648a362da2da4b0"),
		},
		{name: "empty", in: "", wantErr: "must start with whsec_"},
		{name: "prefix only", in: "whsec_", wantErr: "must decode to 24 to 64 bytes"},
		{
			name:    "no prefix",
			in:      base64.StdEncoding.EncodeToString(key32),
			wantErr: "must start with whsec_",
		},
		{
			name:    "wrong prefix",
			in:      "whsk_" + base64.StdEncoding.EncodeToString(key32),
			wantErr: "must start with whsec_",
		},
		{
			name:    "upper-case prefix",
			in:      "WHSEC_" + base64.StdEncoding.EncodeToString(key32),
			wantErr: "must start with whsec_",
		},
		{
			name:    "bad base64",
			in:      "whsec_not*base64!not*base64!not*base64!",
			wantErr: "is not valid base64",
		},
		{
			name:    "URL-safe base64",
			in:      "whsec_____________________________________________",
			wantErr: "is not valid base64",
		},
		{
			name:    "non-zero trailing bits",
			in:      "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",
			wantErr: "is not valid base64",
		},
		{
			name:    "line break",
			in:      "whsec_AAECAwQFBgcICQoLDA0ODxAR\nEhMUFRYXGBkaGxwdHh8=",
			wantErr: "is not valid base64",
		},
		{
			name:    "23 bytes",
			in:      encode(make([]byte, 23)),
			wantErr: "must decode to 24 to 64 bytes",
		},
		{
			name:    "65 bytes",
			in:      encode(make([]byte, 65)),
			wantErr: "must decode to 24 to 64 bytes",
		},
		{
			name:    "huge",
			in:      encode(make([]byte, 1<<20)),
			wantErr: "must decode to 24 to 64 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := signing.ParseSecret(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, signing.ErrInvalidSecret)
				require.EqualError(t, err, "signing: invalid secret: "+tt.wantErr)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()

	var (
		secret = mustParse(t, specSecret)
		other  = randomSecret(t)
		ts     = time.Unix(specUnix, 0)
		sig    = strings.TrimPrefix(specSig, "v1,")
		wrong  = signing.Sign(specMsgID, ts, []byte(specBody), other)

		invalid    = signing.ErrInvalidSignature
		outOfRange = signing.ErrTimestampOutOfRange
	)

	// Zero fields default to the specification example, verified at its
	// own timestamp.
	tests := []struct {
		name      string
		secret    signing.Secret
		msgID     string
		body      string
		header    string
		age       time.Duration
		tolerance time.Duration
		wantErr   error
	}{
		{name: "valid", header: specSig},
		{name: "wrong secret", secret: other, header: specSig, wantErr: invalid},
		{
			name:    "empty secret",
			secret:  signing.Secret{},
			header:  specSig,
			wantErr: signing.ErrInvalidSecret,
		},
		{
			name:    "tampered body",
			body:    `{"test": 2432232315}`,
			header:  specSig,
			wantErr: invalid,
		},
		{name: "tampered id", msgID: specMsgID + "x", header: specSig, wantErr: invalid},
		{name: "tampered signature", header: specSig[:43] + "A=", wantErr: invalid},
		{name: "truncated signature", header: specSig[:46], wantErr: invalid},
		{name: "empty header", header: "", wantErr: invalid},
		{name: "no version", header: sig, wantErr: invalid},
		{name: "other version only", header: "v2," + sig, wantErr: invalid},
		{name: "longer version", header: "v1a," + sig, wantErr: invalid},
		{name: "other versions ignored", header: "v2,xyz v1a," + sig + " " + specSig},
		{name: "second entry matches", header: wrong + " " + specSig},
		{name: "first entry matches", header: specSig + " " + wrong},
		{name: "none of several match", header: wrong + " " + wrong, wantErr: invalid},
		{
			name:    "old timestamp",
			header:  specSig,
			age:     5*time.Minute + time.Second,
			wantErr: outOfRange,
		},
		{
			name:    "future timestamp",
			header:  specSig,
			age:     -5*time.Minute - time.Second,
			wantErr: outOfRange,
		},
		{name: "old within default tolerance", header: specSig, age: 5 * time.Minute},
		{name: "future within default tolerance", header: specSig, age: -5 * time.Minute},
		{
			name:      "negative tolerance means default",
			header:    specSig,
			age:       4 * time.Minute,
			tolerance: -time.Second,
		},
		{
			name:      "custom tolerance",
			header:    specSig,
			age:       time.Hour,
			tolerance: time.Hour,
		},
		{
			name:      "custom tolerance exceeded",
			header:    specSig,
			age:       11 * time.Second,
			tolerance: 10 * time.Second,
			wantErr:   outOfRange,
		},
		{name: "far past", header: specSig, age: math.MaxInt64, wantErr: outOfRange},
		{name: "far future", header: specSig, age: math.MinInt64, wantErr: outOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if tt.secret == nil {
				tt.secret = secret
			}
			if tt.msgID == "" {
				tt.msgID = specMsgID
			}
			if tt.body == "" {
				tt.body = specBody
			}

			now := ts.Add(tt.age)
			err := signing.Verify(tt.secret, tt.msgID, ts, []byte(tt.body), tt.header,
				now, tt.tolerance)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestSecretRedacted(t *testing.T) {
	t.Parallel()

	secret := randomSecret(t)
	leaks := []string{
		strings.TrimPrefix(secret.Encode(), "whsec_"),
		base64.RawStdEncoding.EncodeToString(secret),
		hex.EncodeToString(secret),
		string(secret),
	}
	outputs := map[string]string{
		"String":   secret.String(),
		"LogValue": secret.LogValue().String(),
		"slog":     logged(secret),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		outputs[verb] = fmt.Sprintf(verb, secret)
		outputs[verb+" of struct"] = fmt.Sprintf(verb, struct{ S signing.Secret }{secret})
		outputs[verb+" of pointer"] = fmt.Sprintf(verb, &secret)
	}

	require.Equal(t, "whsec_[redacted]", secret.String())
	for name, out := range outputs {
		require.Contains(t, out, "whsec_[redacted]", name)
		for _, leak := range leaks {
			require.NotContains(t, out, leak, name)
		}
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()

	a, err := signing.NewSecret()
	require.NoError(t, err)
	b, err := signing.NewSecret()
	require.NoError(t, err)

	require.Len(t, a, 32)
	require.Len(t, b, 32)
	require.NotEqual(t, a, b)

	for _, s := range []signing.Secret{a, b} {
		encoded := s.Encode()
		require.True(t, strings.HasPrefix(encoded, "whsec_"))

		parsed, err := signing.ParseSecret(encoded)
		require.NoError(t, err)
		require.Equal(t, s, parsed)
	}
}

func FuzzParseSecret(f *testing.F) {
	f.Add(specSecret)
	f.Add("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
	f.Add("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=")
	f.Add("whsec_")
	f.Add("")
	f.Add("whsec_====")

	f.Fuzz(func(t *testing.T, in string) {
		secret, err := signing.ParseSecret(in)
		if err != nil {
			require.ErrorIs(t, err, signing.ErrInvalidSecret)
			require.Nil(t, secret)
			return
		}
		require.GreaterOrEqual(t, len(secret), 24)
		require.LessOrEqual(t, len(secret), 64)

		again, err := signing.ParseSecret(secret.Encode())
		require.NoError(t, err)
		require.Equal(t, secret, again)
	})
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), specMsgID, int64(specUnix),
		[]byte(specBody), specSig)
	f.Add([]byte{1}, "", int64(0), []byte{}, "v1, v1,,, v2")
	f.Add([]byte("key"), "msg.1.2", int64(-1<<62), []byte("."), "")

	f.Fuzz(func(
		t *testing.T, key []byte, msgID string, unix int64, body []byte, header string,
	) {
		var (
			secret = signing.Secret(key)
			ts     = time.Unix(unix, 0)
			signed = signing.Sign(msgID, ts, body, secret)
		)

		// Any header that passes must carry the true signature.
		err := signing.Verify(secret, msgID, ts, body, header, ts, 0)
		if err == nil {
			require.Contains(t, header, signed)
		}

		err = signing.Verify(secret, msgID, ts, body, header+" "+signed, ts, 0)
		if len(key) == 0 {
			require.ErrorIs(t, err, signing.ErrInvalidSecret)
			return
		}
		require.NoError(t, err)
	})
}

func BenchmarkSign(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	ts := time.Unix(specUnix, 0)
	secrets := []signing.Secret{randomSecret(b), randomSecret(b)}

	for _, n := range []int{1, 2} {
		b.Run(strconv.Itoa(n)+" secrets", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				signing.Sign(specMsgID, ts, body, secrets[:n]...)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	ts := time.Unix(specUnix, 0)
	secret := randomSecret(b)
	header := signing.Sign(specMsgID, ts, body, randomSecret(b), secret)

	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := signing.Verify(secret, specMsgID, ts, body, header, ts, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// webhookHeaders returns the headers the reference library reads.
func webhookHeaders(msgID string, ts time.Time, signature string) http.Header {
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, signature)
	return h
}

// logged returns what the text and JSON slog handlers write for a record
// that carries secret as an attribute.
func logged(secret signing.Secret) string {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("text", slog.Any("secret", secret))
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("json", slog.Any("secret", secret))
	return buf.String()
}

func mustParse(t *testing.T, s string) signing.Secret {
	t.Helper()

	secret, err := signing.ParseSecret(s)
	require.NoError(t, err)
	return secret
}

// randomSecret returns a secret of a random length that ParseSecret accepts.
func randomSecret(tb testing.TB) signing.Secret {
	tb.Helper()

	return randomBytes(tb, 24+randomInt(tb, 41))
}

func randomBytes(tb testing.TB, n int) []byte {
	tb.Helper()

	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(tb, err)
	return b
}

// randomInt returns a random int in [0, n).
func randomInt(tb testing.TB, n int) int {
	tb.Helper()

	i, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	require.NoError(tb, err)
	return int(i.Int64())
}

func encode(key []byte) string {
	return "whsec_" + base64.StdEncoding.EncodeToString(key)
}

func decodeHex(t *testing.T, s string) []byte {
	t.Helper()

	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}
