package authx_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authx-go/authx"
	"github.com/authx-go/authx/authtest"
	"github.com/google/go-cmp/cmp"
)

// subjectOutcome is what a client and a handler see of a subject lookup.
type subjectOutcome struct {
	KnownStatus     int    // status of a request to a.Require(a.KnownSubject())
	KnownCode       string // its error code, "" on success
	SubjectFromOK   bool   // SubjectFrom's ok in a guarded handler
	SubjectNotFound bool   // a.Subject's error wraps ErrSubjectNotFound
}

var (
	subjectFound    = subjectOutcome{KnownStatus: http.StatusOK, SubjectFromOK: true}
	subjectNotFound = subjectOutcome{KnownStatus: http.StatusUnauthorized, KnownCode: "subject_not_found", SubjectNotFound: true}
)

// nilSubjectCase is one row of TestNilSubjectIsNotFound: a getter of some
// type T returning a fixed value with a nil error.
type nilSubjectCase struct {
	name   string
	want   subjectOutcome
	reason string
	run    func(t *testing.T) subjectOutcome
}

// subjectRow builds a row whose getter returns v, nil, run through a real
// server: one guard with KnownSubject, one without whose handler asks for
// the subject.
func subjectRow[T any](name string, v T, want subjectOutcome, reason string) nilSubjectCase {
	return nilSubjectCase{name: name, want: want, reason: reason, run: func(t *testing.T) subjectOutcome {
		t.Helper()
		clock := authtest.NewClock(testNow)
		get := func(context.Context, *authx.Claims) (T, error) { return v, nil }
		a, err := authx.New[T](authx.WithSecret(secret32), authx.WithClock(clock.Now), authx.WithSubjectGetter(get))
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/known", a.Require(a.KnownSubject()).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		})))
		mux.Handle("/lazy", a.Require().Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, ok := authx.SubjectFrom[T](r.Context())
			_, err := a.Subject(r.Context())
			json.NewEncoder(w).Encode([]bool{ok, errors.Is(err, authx.ErrSubjectNotFound)})
		})))
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		tok := authtest.Token(t, a, "alice")
		do := func(path string) (*http.Response, []byte) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			return res, body
		}
		var got subjectOutcome
		res, body := do("/known")
		got.KnownStatus = res.StatusCode
		if res.StatusCode != http.StatusOK {
			var e struct{ Code string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Errorf("error body %q: %v", body, err)
			}
			got.KnownCode = e.Code
		}
		res, body = do("/lazy")
		var flags []bool
		if err := json.Unmarshal(body, &flags); err != nil || len(flags) != 2 || res.StatusCode != http.StatusOK {
			t.Fatalf("/lazy: %d %q: %v", res.StatusCode, body, err)
		}
		got.SubjectFromOK, got.SubjectNotFound = flags[0], flags[1]
		return got
	}}
}

type stringer struct{ name string }

func (s *stringer) String() string { return s.name }

// TestNilSubjectIsNotFound: a getter that returns a nil T with a nil error
// found nobody. KnownSubject denies (401 subject_not_found), SubjectFrom
// reports false and Subject's error wraps ErrSubjectNotFound; a (nil, nil)
// lookup never admits as a known subject.
func TestNilSubjectIsNotFound(t *testing.T) {
	t.Parallel()
	tests := []nilSubjectCase{
		subjectRow("nil pointer", (*userT)(nil), subjectNotFound, "the usual store returns (*User)(nil), nil for a missing row"),
		subjectRow("nil map", map[string]string(nil), subjectNotFound, "a nil map is no subject"),
		subjectRow("nil slice", []string(nil), subjectNotFound, "a nil slice is no subject"),
		subjectRow("nil func", (func())(nil), subjectNotFound, "a nil func is no subject"),
		subjectRow("nil chan", (chan int)(nil), subjectNotFound, "a nil channel is no subject"),
		subjectRow[any]("nil interface", nil, subjectNotFound, "a nil interface is no subject"),
		subjectRow[fmt.Stringer]("interface holding a nil pointer", (*stringer)(nil), subjectNotFound, "a typed nil in an interface is still nobody"),
		subjectRow("control/pointer", &userT{Name: "Alice"}, subjectFound, "a found subject"),
		subjectRow("control/empty map", map[string]string{}, subjectFound, "empty but not nil"),
		subjectRow("control/empty slice", []string{}, subjectFound, "empty but not nil"),
		subjectRow("control/zero struct", userT{}, subjectFound, "a struct cannot be nil: the getter's word is taken"),
		subjectRow[fmt.Stringer]("control/interface", &stringer{"alice"}, subjectFound, "a found subject behind an interface"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.run(t)); diff != "" {
				t.Errorf("outcome (-want +got):\n%s\n%s", diff, tt.reason)
			}
		})
	}
}
