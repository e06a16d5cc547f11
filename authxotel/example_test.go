package authxotel_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authxotel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A Recorder turns an Auth's events into span events on each request's
// span and into metrics. Here both providers keep what they get in memory;
// real ones export it (OTLP, Prometheus), and the request spans come from
// an HTTP instrumentation such as otelhttp.
func Example() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())

	rec, err := authxotel.New(mp)
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := authx.New[string](
		authx.WithSecret([]byte("example-secret-of-at-least-32-bytes!")),
		authx.WithClock(func() time.Time { return time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC) }),
		authx.WithEvents(rec.Hook),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	guarded := a.Require().WrapFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tp.Tracer("example").Start(r.Context(), "GET /")
		defer span.End()
		guarded.ServeHTTP(w, r.WithContext(ctx))
	}))
	defer srv.Close()

	pair, err := a.CreateTokenPair("alice") // a login: counted (it has no request span)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, tok := range []string{pair.AccessToken, "", pair.RefreshToken} {
		r, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
	}

	for _, s := range spans.Ended() {
		for _, e := range s.Events() {
			for _, kv := range e.Attributes {
				if kv.Key == "authx.code" {
					fmt.Println("span event:", e.Name, kv.Value.String())
				}
			}
			if e.Name == "authx.verified" {
				fmt.Println("span event:", e.Name)
			}
		}
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		fmt.Println(err)
		return
	}
	counts := map[string]int64{}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				ev, _ := dp.Attributes.Value("authx.event")
				code, _ := dp.Attributes.Value("authx.code")
				k := ev.AsString()
				if c := code.AsString(); c != "" {
					k += " " + c
				}
				counts[k] += dp.Value
			}
		case metricdata.Histogram[float64]:
			fmt.Printf("%s: %d measurement in %s\n", m.Name, d.DataPoints[0].Count, m.Unit)
		}
	}
	fmt.Println(sortedCounts(counts))
	// Output:
	// span event: authx.verified
	// span event: authx.denied missing_token
	// span event: authx.denied access_token_required
	// authx.verification.duration: 1 measurement in s
	// authx.events{denied access_token_required} 1
	// authx.events{denied missing_token} 1
	// authx.events{issue} 1
	// authx.events{verified} 1
}
