// Package authxotel records authx's events as OpenTelemetry telemetry:
// each [authx.Event] becomes a span event on the span of the request it is
// about, a count of the authx.events counter by event and code, and, for
// the requests a guard admits, a measurement of how long verifying took.
//
//	rec, err := authxotel.New(meterProvider)
//	if err != nil { … }
//	a, err := authx.New[User](authx.WithSecret(key), authx.WithEvents(rec.Hook))
//
// It uses authx's public extension point ([authx.WithEvents]) only.
//
// # Telemetry
//
// Span events, on [trace.SpanFromContext] of the event's context (the
// request's, for the span an HTTP instrumentation such as otelhttp
// started): named "authx." and the event's kind ("authx.denied",
// "authx.verified", …), with the attributes
//
//	authx.event                 the kind: "denied", "refresh", … (see authx.EventKind)
//	authx.code                  the error code ("token_expired", …), or the WebSocket close code
//	enduser.id                  the token's subject
//	authx.token.id              the token's jti
//	authx.token.type            "access" or "refresh"
//	authx.session.id            the session
//	authx.family.id             the refresh family
//	client.address              the client's address (authx.Auth.ClientIP)
//	http.response.status_code   the status of a refused request
//	authx.error                 for store failures, the cause (at most 256 bytes)
//
// each only when set. Events without a recording span (a login issued by
// authx.Auth.CreateTokenPair, which takes no context; a WebSocket closed
// after its handshake's span ended) are counted, not traced.
//
// Metrics, from the [metric.MeterProvider] given to [New], meter
// [ScopeName]:
//
//	authx.events                 counter {event}: every event, by authx.event and authx.code
//	authx.verification.duration  histogram s: how long a guard took to verify and admit
//
// Counter attributes are bounded by construction (the kinds, and the codes
// of authx's errors); subjects and ids, which are not, go only on span
// events. Tokens, keys, secrets and CSRF values are never recorded:
// authx's events do not hold them.
package authxotel

import (
	"context"
	"errors"

	"github.com/authx-go/authx"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of the meter a [Recorder] uses.
const ScopeName = "github.com/authx-go/authx/authxotel"

// The names of the instruments.
const (
	// EventsMetric counts events, by authx.event and authx.code.
	EventsMetric = "authx.events"
	// VerificationDurationMetric measures, in seconds, how long a guard
	// took to verify a token and admit the request (authx.EventVerified).
	VerificationDurationMetric = "authx.verification.duration"
)

// durationBuckets are the histogram's bucket boundaries, in seconds: a
// verification takes microseconds (HMAC) to tens of milliseconds (a slow
// store), far below the default boundaries, made for milliseconds.
var durationBuckets = []float64{
	0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
}

// maxError bounds the authx.error attribute.
const maxError = 256

// Recorder records authx events as span events and metrics. Build it with
// [New] and install [Recorder.Hook] with [authx.WithEvents]. It is safe for
// concurrent use.
type Recorder struct {
	events   metric.Int64Counter
	duration metric.Float64Histogram
	// byKind are the counter's attributes of events without a code (a
	// Verified event on every admitted request among them), built once.
	byKind [256]metric.AddOption
	// names are the span events' names ("authx.denied"), built once.
	names [256]string
}

// New returns a Recorder whose instruments come from mp (for the global
// provider, pass otel.GetMeterProvider() explicitly). mp must not be nil;
// an error creating an instrument is returned.
func New(mp metric.MeterProvider) (*Recorder, error) {
	if mp == nil {
		return nil, errors.New("authxotel: nil MeterProvider (pass otel.GetMeterProvider() for the global one)")
	}
	m := mp.Meter(ScopeName)
	events, err := m.Int64Counter(EventsMetric,
		metric.WithUnit("{event}"),
		metric.WithDescription("Authentication events (logins, refreshes, denials, …), by event and code."))
	if err != nil {
		return nil, err
	}
	duration, err := m.Float64Histogram(VerificationDurationMetric,
		metric.WithUnit("s"),
		metric.WithDescription("How long a guard took to verify a token and admit the request."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		return nil, err
	}
	r := &Recorder{events: events, duration: duration}
	for k := authx.EventIssue; k <= authx.EventVerified; k++ {
		r.byKind[k] = metric.WithAttributeSet(attribute.NewSet(attribute.String("authx.event", k.String())))
		r.names[k] = "authx." + k.String()
	}
	return r, nil
}

// Hook records e; pass it to [authx.WithEvents]. It adds a span event to
// the recording span of ctx, if any, counts e, and measures an
// authx.EventVerified's duration.
func (r *Recorder) Hook(ctx context.Context, e authx.Event) {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		name := r.names[e.Kind]
		if name == "" {
			name = "authx." + e.Kind.String()
		}
		span.AddEvent(name, trace.WithAttributes(spanAttributes(e)...))
	}
	opt := r.byKind[e.Kind]
	if opt == nil || e.Code != "" {
		kv := []attribute.KeyValue{attribute.String("authx.event", e.Kind.String())}
		if e.Code != "" {
			kv = append(kv, attribute.String("authx.code", e.Code))
		}
		opt = metric.WithAttributes(kv...)
	}
	r.events.Add(ctx, 1, opt)
	if e.Kind == authx.EventVerified {
		r.duration.Record(ctx, e.Duration.Seconds())
	}
}

// spanAttributes are e's span event attributes, those set.
func spanAttributes(e authx.Event) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 8)
	kv = append(kv, attribute.String("authx.event", e.Kind.String()))
	for _, f := range [...]struct {
		k attribute.Key
		v string
	}{
		{"authx.code", e.Code},
		{"enduser.id", e.Subject},
		{"authx.token.id", e.TokenID},
		{"authx.token.type", string(e.TokenType)},
		{"authx.session.id", e.SessionID},
		{"authx.family.id", e.FamilyID},
		{"client.address", e.ClientIP},
	} {
		if f.v != "" {
			kv = append(kv, f.k.String(f.v))
		}
	}
	if e.Status != 0 {
		kv = append(kv, attribute.Int("http.response.status_code", e.Status))
	}
	if e.Kind == authx.EventStoreFailure && e.Err != nil {
		kv = append(kv, attribute.String("authx.error", truncate(e.Err.Error(), maxError)))
	}
	return kv
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
