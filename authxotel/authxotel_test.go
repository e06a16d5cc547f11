package authxotel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/authx-go/authx/authxotel"
	"github.com/google/go-cmp/cmp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
)

// telemetry is an SDK tracer and meter provider recording in memory.
type telemetry struct {
	tp     *sdktrace.TracerProvider
	spans  *tracetest.SpanRecorder
	mp     *sdkmetric.MeterProvider
	reader *sdkmetric.ManualReader
}

func newTelemetry(tb testing.TB) *telemetry {
	tb.Helper()
	t := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	t.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(t.spans))
	t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(t.reader))
	tb.Cleanup(func() {
		_ = t.tp.Shutdown(context.Background())
		_ = t.mp.Shutdown(context.Background())
	})
	return t
}

// traced runs h inside a server span, as an HTTP instrumentation would.
func (t *telemetry) traced(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := t.tp.Tracer("test").Start(r.Context(), r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// spanEvent is a span event as the tests compare it.
type spanEvent struct {
	Name  string
	Attrs map[string]string
}

// events returns the events of the ended span named name.
func (t *telemetry) events(tb testing.TB, name string) []spanEvent {
	tb.Helper()
	for _, s := range t.spans.Ended() {
		if s.Name() != name {
			continue
		}
		var out []spanEvent
		for _, e := range s.Events() {
			attrs := map[string]string{}
			for _, kv := range e.Attributes {
				attrs[string(kv.Key)] = kv.Value.String()
			}
			out = append(out, spanEvent{e.Name, attrs})
		}
		return out
	}
	tb.Fatalf("no span %q", name)
	return nil
}

// metrics collects the counter (by "event/code") and the histogram.
func (t *telemetry) metrics(tb testing.TB) (map[string]int64, *metricdata.HistogramDataPoint[float64], []metricdata.Metrics) {
	tb.Helper()
	var rm metricdata.ResourceMetrics
	if err := t.reader.Collect(context.Background(), &rm); err != nil {
		tb.Fatal(err)
	}
	counts := map[string]int64{}
	var hist *metricdata.HistogramDataPoint[float64]
	var all []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != authxotel.ScopeName {
			tb.Errorf("scope %q, want %q", sm.Scope.Name, authxotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			all = append(all, m)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name != authxotel.EventsMetric || m.Unit != "{event}" || !d.IsMonotonic {
					tb.Errorf("counter %q (%s, monotonic %v)", m.Name, m.Unit, d.IsMonotonic)
				}
				for _, dp := range d.DataPoints {
					ev, _ := dp.Attributes.Value("authx.event")
					code, _ := dp.Attributes.Value("authx.code")
					counts[ev.AsString()+"/"+code.AsString()] += dp.Value
				}
			case metricdata.Histogram[float64]:
				if m.Name != authxotel.VerificationDurationMetric || m.Unit != "s" || len(d.DataPoints) != 1 {
					tb.Fatalf("histogram %q (%s) with %d points", m.Name, m.Unit, len(d.DataPoints))
				}
				hist = &d.DataPoints[0]
			}
		}
	}
	return counts, hist, all
}

// site is a guarded API whose requests run in server spans.
type site struct {
	a   *authx.Auth[string]
	srv *httptest.Server
	tel *telemetry
}

func newSite(t *testing.T, opts ...authx.Option) *site {
	t.Helper()
	tel := newTelemetry(t)
	rec, err := authxotel.New(tel.mp)
	if err != nil {
		t.Fatal(err)
	}
	a, err := authx.New[string](append([]authx.Option{authx.WithSecret(secret), authx.WithClock(func() time.Time { return now }),
		authx.WithEvents(rec.Hook)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux := http.NewServeMux()
	mux.Handle("GET /api", tel.traced(a.Require().Wrap(ok)))
	mux.Handle("GET /admin", tel.traced(a.Require(authx.Scopes("admin")).Wrap(ok)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &site{a: a, srv: srv, tel: tel}
}

func (s *site) get(t *testing.T, path, tok string) int {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := s.srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	tok := authtest.Token(t, s.a, "alice")
	expired := authtest.ExpiredToken(t, s.a, "alice")
	c, err := s.a.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, tok string
		status    int
		span      string
		want      []spanEvent
		reason    string
	}{
		{"/api", tok, 200, "GET /api", []spanEvent{{"authx.verified", map[string]string{
			"authx.event": "verified", "enduser.id": "alice", "authx.token.id": c.ID, "authx.token.type": "access", "client.address": "127.0.0.1",
		}}}, "an admitted request is a verified event naming the token"},
		{"/admin", tok, 403, "GET /admin", []spanEvent{{"authx.denied", map[string]string{
			"authx.event": "denied", "authx.code": "insufficient_scope", "enduser.id": "alice", "authx.token.id": c.ID,
			"authx.token.type": "access", "client.address": "127.0.0.1", "http.response.status_code": "403",
		}}}, "a denial after verification names the token and its code"},
	} {
		if got := s.get(t, tt.path, tt.tok); got != tt.status {
			t.Fatalf("%s: status %d, want %d", tt.path, got, tt.status)
		}
		if diff := cmp.Diff(tt.want, s.tel.events(t, tt.span)); diff != "" {
			t.Errorf("%s: span events (-want +got):\n%s\n%s", tt.path, diff, tt.reason)
		}
	}
	s.get(t, "/api", expired)
	s.get(t, "/api", "")

	counts, hist, all := s.tel.metrics(t)
	want := map[string]int64{
		"issue/":                    3, // Token, and ExpiredToken's two
		"verified/":                 1,
		"denied/insufficient_scope": 1,
		"denied/token_expired":      1,
		"denied/missing_token":      1,
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("authx.events by event/code (-want +got):\n%s", diff)
	}
	if hist == nil || hist.Count != 1 || hist.Sum <= 0 || hist.Sum > 10 || len(hist.Bounds) == 0 || hist.Bounds[0] > 0.0001 {
		t.Errorf("authx.verification.duration: %+v, want one positive measurement in seconds, buckets from microseconds", hist)
	}

	// Nothing recorded holds a token or the secret.
	recorded := fmt.Sprintf("%+v", all)
	for _, sp := range s.tel.spans.Ended() {
		recorded += fmt.Sprintf("%+v %+v", sp.Events(), sp.Attributes())
	}
	for _, secret := range []string{tok, expired, string(secret)} {
		if strings.Contains(recorded, secret) {
			t.Errorf("telemetry holds a token or the secret (%.12s…)", secret)
		}
	}
}

// failingBlocklist cannot answer.
type failingBlocklist struct{}

func (failingBlocklist) Revoke(context.Context, string, time.Time) error {
	return errors.New("blocklist: down")
}

func (failingBlocklist) IsRevoked(context.Context, ...string) (bool, error) {
	return false, errors.New("blocklist: down")
}

// A store failure's span event carries its cause, bounded.
func TestRecorderStoreFailure(t *testing.T) {
	t.Parallel()
	s := newSite(t, authx.WithBlocklist(failingBlocklist{}))
	tok := authtest.Token(t, s.a, "alice")
	if got := s.get(t, "/api", tok); got != 503 {
		t.Fatalf("status %d, want 503", got)
	}
	events := s.tel.events(t, "GET /api")
	if len(events) != 1 || events[0].Name != "authx.store_failure" || events[0].Attrs["authx.code"] != "unavailable" ||
		!strings.Contains(events[0].Attrs["authx.error"], "blocklist: down") || events[0].Attrs["http.response.status_code"] != "503" {
		t.Errorf("span events %+v, want one store failure with its cause", events)
	}
	counts, _, _ := s.tel.metrics(t)
	if counts["store_failure/unavailable"] != 1 {
		t.Errorf("counts %v, want store_failure/unavailable 1", counts)
	}
}

// An event without a recording span is counted, not traced.
func TestRecorderWithoutSpan(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	rec, err := authxotel.New(tel.mp)
	if err != nil {
		t.Fatal(err)
	}
	rec.Hook(context.Background(), authx.Event{Kind: authx.EventWebSocketClose, Code: "1008", Subject: "alice"})
	rec.Hook(context.Background(), authx.Event{Kind: 200}) // a kind this version does not know
	counts, hist, _ := tel.metrics(t)
	if diff := cmp.Diff(map[string]int64{"websocket_close/1008": 1, "EventKind(200)/": 1}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if hist != nil {
		t.Errorf("histogram without a Verified event: %+v", hist)
	}
	if n := len(tel.spans.Ended()); n != 0 {
		t.Errorf("%d spans, want none", n)
	}
}

func TestNewNil(t *testing.T) {
	t.Parallel()
	if _, err := authxotel.New(nil); err == nil || !strings.Contains(err.Error(), "nil MeterProvider") {
		t.Errorf("New(nil): %v, want an error naming it", err)
	}
}

// BenchmarkGuard measures an admitted request (HS256) in a span of its
// own, through a guard without a hook and one with a Recorder, with the
// span sampled (recording) and not: the Recorder's cost is the difference.
func BenchmarkGuard(b *testing.B) {
	tel := newTelemetry(b)
	rec, err := authxotel.New(tel.mp)
	if err != nil {
		b.Fatal(err)
	}
	noSpans := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	b.Cleanup(func() { _ = noSpans.Shutdown(context.Background()) })
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, hook := range []string{"no-hook", "recorder"} {
		opts := []authx.Option{authx.WithSecret(secret), authx.WithClock(func() time.Time { return now })}
		if hook == "recorder" {
			opts = append(opts, authx.WithEvents(rec.Hook))
		}
		a, err := authx.New[string](opts...)
		if err != nil {
			b.Fatal(err)
		}
		guard := a.Require().Wrap(ok)
		tok := authtest.Token(b, a, "alice")
		for _, tc := range []struct {
			name string
			tp   trace.TracerProvider
		}{{"unsampled", noSpans}, {"recording", tel.tp}} {
			b.Run(hook+"/"+tc.name, func(b *testing.B) {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				tracer := tc.tp.Tracer("bench")
				b.ReportAllocs()
				for b.Loop() {
					ctx, span := tracer.Start(context.Background(), "request")
					guard.ServeHTTP(w, r.WithContext(ctx))
					span.End()
				}
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			})
		}
	}
}

// sortedCounts prints counts one per line, sorted.
func sortedCounts(counts map[string]int64) string {
	var lines []string
	for k, v := range counts {
		lines = append(lines, fmt.Sprintf("%s{%s} %d", authxotel.EventsMetric, k, v))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
