package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Named string and byte types take decodeRune's fallback path.
type (
	myString string
	myBytes  []byte
)

// errAny in a want field accepts any scanner error.
var errAny = errors.New("any error")

var sentinels = []error{ErrSyntax, ErrType, ErrDepth, ErrUTF8, ErrCount, ErrRange}

// Harness failures: two ways of reading the same value disagree.
var (
	errStringSkip = errors.New("String and Skip disagree")
	errArraySkip  = errors.New("StringArray and Skip stop at different places")
	errNumberSkip = errors.New("Number and Skip stop at different places")
)

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if err == s {
			return true
		}
	}
	return false
}

func checkErr(t *testing.T, what string, want, got error) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Fatalf("%s: unexpected error %v", what, got)
	case want != nil && got == nil:
		t.Fatalf("%s: no error, want %v", what, want)
	case got != nil && !isSentinel(got):
		t.Fatalf("%s: error %v is not one of the package's sentinels", what, got)
	case want != nil && want != errAny && got != want:
		t.Fatalf("%s: error %v, want %v", what, got, want)
	}
}

// member is one top-level member as the scanner read it.
type member struct {
	Key  string
	Kind Kind
	Raw  string // text of the value as Skip returned it
	Str  string // unescaped value, for strings

	Arr   []string // StringArray result, for arrays of strings
	ArrOK bool
	Num   float64 // Number result, for numbers in range
	NumOK bool
}

// scanDoc reads a whole top-level object: Begin, Next until done, End.
// Strings are read with String, every other value with Skip; arrays and
// numbers are also tried with StringArray and Number on a copy of the
// scanner, which must stop where Skip stops.
func scanDoc[S ~string | ~[]byte](doc S) ([]member, error) {
	sc := New(doc)
	if err := sc.Begin(); err != nil {
		return nil, err
	}
	var out []member
	for {
		key, done, err := sc.Next()
		if err != nil {
			return out, err
		}
		if done {
			break
		}
		m := member{Key: string(key), Kind: sc.Peek()}
		switch m.Kind {
		case String:
			before := sc
			v, err := sc.String()
			if err != nil {
				return out, err
			}
			m.Str = string(v)
			raw, err := before.Skip()
			if err != nil || before.i != sc.i {
				return out, errStringSkip
			}
			m.Raw = string(raw)
		default:
			probe := sc
			raw, err := sc.Skip()
			if err != nil {
				return out, err
			}
			m.Raw = string(raw)
			switch m.Kind {
			case Array:
				if arr, err := probe.StringArray(1 << 20); err == nil {
					if probe.i != sc.i {
						return out, errArraySkip
					}
					m.ArrOK = true
					m.Arr = make([]string, len(arr))
					for i, s := range arr {
						m.Arr[i] = string(s)
					}
				}
			case Number:
				if f, err := probe.Number(); err == nil {
					if probe.i != sc.i {
						return out, errNumberSkip
					}
					m.NumOK, m.Num = true, f
				}
			}
		}
		out = append(out, m)
	}
	return out, sc.End()
}

// scanAllTypes runs scanDoc over the four kinds of input and checks that
// they agree; it returns the string scanner's result.
func scanAllTypes(t *testing.T, doc string) ([]member, error) {
	t.Helper()
	want, wantErr := scanDoc(doc)
	others := []struct {
		name string
		scan func() ([]member, error)
	}{
		{"[]byte", func() ([]member, error) { return scanDoc([]byte(doc)) }},
		{"named string", func() ([]member, error) { return scanDoc(myString(doc)) }},
		{"named []byte", func() ([]member, error) { return scanDoc(myBytes(doc)) }},
	}
	for _, o := range others {
		got, err := o.scan()
		if err != wantErr {
			t.Fatalf("%s scanner: error %v, string scanner: %v", o.name, err, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s scanner disagrees with string scanner (-string +%s):\n%s", o.name, o.name, diff)
		}
	}
	return want, wantErr
}

func nest(open, close string, n int) string {
	return `{"a":` + strings.Repeat(open, n) + strings.Repeat(close, n) + `}`
}

func TestScanDocuments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		doc      string
		wantKeys []string
		wantErr  error
		reason   string
	}{
		// Valid objects.
		{name: "empty", doc: `{}`, wantKeys: nil},
		{name: "white space", doc: " \t\r\n{ \t\r\n} \t\r\n", wantKeys: nil},
		{name: "every kind", doc: `{"s":"x","n":-1.5e+3,"t":true,"f":false,"z":null,"a":[1,"b",[]],"o":{"k":{}}}`,
			wantKeys: []string{"s", "n", "t", "f", "z", "a", "o"}},
		{name: "spaced members", doc: `{ "a" : 1 , "b" : [ 1 , 2 ] , "c" : { "d" : null } }`, wantKeys: []string{"a", "b", "c"}},
		{name: "numbers", doc: `{"a":0,"b":-0,"c":0.5,"d":1E2,"e":1e-2,"f":1e+2,"g":-0.0e0,"h":123456789012345678901234567890}`,
			wantKeys: []string{"a", "b", "c", "d", "e", "f", "g", "h"}},
		{name: "escapes", doc: `{"a":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac"}`, wantKeys: []string{"a"}},
		{name: "escaped key", doc: `{"\u0061\n":1}`, wantKeys: []string{"a\n"}},
		{name: "surrogate pair", doc: `{"a":"\ud83d\ude00","b":"\uD83D\uDE00"}`, wantKeys: []string{"a", "b"}},
		{name: "NUL escape", doc: `{"a":"\u0000"}`, wantKeys: []string{"a"}},
		{name: "raw UTF-8", doc: `{"é":"日本語 😀","b":"\u00e9é"}`, wantKeys: []string{"é", "b"}},
		{name: "DEL is not a control character", doc: "{\"a\":\"\x7f\"}", wantKeys: []string{"a"}},
		{name: "raw U+FFFD", doc: "{\"a\":\"\xef\xbf\xbd\"}", wantKeys: []string{"a"}, reason: "a real U+FFFD is valid UTF-8"},
		{name: "duplicate keys", doc: `{"a":1,"a":2}`, wantKeys: []string{"a", "a"}, reason: "duplicates are the caller's concern"},
		{name: "empty key", doc: `{"":1}`, wantKeys: []string{""}},
		{name: "depth at limit", doc: nest("[", "]", MaxDepth), wantKeys: []string{"a"}},
		{name: "object depth at limit", doc: `{"a":` + strings.Repeat(`{"a":`, MaxDepth-1) + `{}` + strings.Repeat(`}`, MaxDepth-1) + `}`, wantKeys: []string{"a"}},

		// Structure.
		{name: "trailing comma", doc: `{"a":1,}`, wantErr: ErrSyntax},
		{name: "leading comma", doc: `{,"a":1}`, wantErr: ErrSyntax},
		{name: "double comma", doc: `{"a":1,,"b":2}`, wantErr: ErrSyntax},
		{name: "missing comma", doc: `{"a":1 "b":2}`, wantErr: ErrSyntax},
		{name: "missing colon", doc: `{"a" 1}`, wantErr: ErrSyntax},
		{name: "missing value", doc: `{"a":}`, wantErr: ErrSyntax},
		{name: "unquoted key", doc: `{a:1}`, wantErr: ErrSyntax},
		{name: "number key", doc: `{1:1}`, wantErr: ErrSyntax},
		{name: "single quotes", doc: `{'a':1}`, wantErr: ErrSyntax},
		{name: "unclosed", doc: `{"a":1`, wantErr: ErrSyntax},
		{name: "unclosed empty", doc: `{`, wantErr: ErrSyntax},
		{name: "array trailing comma", doc: `{"a":[1,]}`, wantErr: ErrSyntax},
		{name: "array leading comma", doc: `{"a":[,1]}`, wantErr: ErrSyntax},
		{name: "array unclosed", doc: `{"a":[1}`, wantErr: ErrSyntax},
		{name: "nested trailing comma", doc: `{"a":{"b":1,}}`, wantErr: ErrSyntax},
		{name: "nested key without value", doc: `{"a":{"b"}}`, wantErr: ErrSyntax},
		{name: "nested non-string key", doc: `{"a":{1:2}}`, wantErr: ErrSyntax},
		{name: "trailing garbage", doc: `{"a":1}x`, wantErr: ErrSyntax},
		{name: "two objects", doc: `{}{}`, wantErr: ErrSyntax},
		{name: "trailing NUL", doc: "{}\x00", wantErr: ErrSyntax},
		{name: "form feed is not white space", doc: "{\f}", wantErr: ErrSyntax},
		{name: "too deep arrays", doc: nest("[", "]", MaxDepth+1), wantErr: ErrDepth},
		{name: "too deep objects", doc: `{"a":` + strings.Repeat(`{"a":`, MaxDepth) + `{}` + strings.Repeat(`}`, MaxDepth) + `}`, wantErr: ErrDepth},
		{name: "very deep", doc: nest("[", "]", 100000), wantErr: ErrDepth, reason: "no stack exhaustion"},

		// Top level.
		{name: "empty input", doc: ``, wantErr: ErrType},
		{name: "only space", doc: `   `, wantErr: ErrType},
		{name: "top-level array", doc: `[]`, wantErr: ErrType},
		{name: "top-level string", doc: `"a"`, wantErr: ErrType},
		{name: "top-level number", doc: `1`, wantErr: ErrType},
		{name: "top-level null", doc: `null`, wantErr: ErrType},
		{name: "byte order mark", doc: "\ufeff{}", wantErr: ErrType},

		// Numbers.
		{name: "leading zero", doc: `{"a":01}`, wantErr: ErrSyntax},
		{name: "double zero", doc: `{"a":00}`, wantErr: ErrSyntax},
		{name: "negative leading zero", doc: `{"a":-01}`, wantErr: ErrSyntax},
		{name: "dot without fraction", doc: `{"a":1.}`, wantErr: ErrSyntax},
		{name: "fraction without integer", doc: `{"a":.5}`, wantErr: ErrSyntax},
		{name: "lone minus", doc: `{"a":-}`, wantErr: ErrSyntax},
		{name: "plus sign", doc: `{"a":+1}`, wantErr: ErrSyntax},
		{name: "exponent without digits", doc: `{"a":1e}`, wantErr: ErrSyntax},
		{name: "exponent sign without digits", doc: `{"a":1e+}`, wantErr: ErrSyntax},
		{name: "fraction exponent without digits", doc: `{"a":1.5E-}`, wantErr: ErrSyntax},
		{name: "hex", doc: `{"a":0x10}`, wantErr: ErrSyntax},
		{name: "NaN", doc: `{"a":NaN}`, wantErr: ErrSyntax},
		{name: "Infinity", doc: `{"a":Infinity}`, wantErr: ErrSyntax},
		{name: "minus Infinity", doc: `{"a":-Infinity}`, wantErr: ErrSyntax},
		{name: "digit after literal", doc: `{"a":true1}`, wantErr: ErrSyntax},

		// Literals.
		{name: "truncated true", doc: `{"a":tru}`, wantErr: errAny, reason: "reported as ErrType today; any error will do"},
		{name: "truncated false", doc: `{"a":fals}`, wantErr: errAny},
		{name: "truncated null", doc: `{"a":nul}`, wantErr: ErrSyntax},
		{name: "capitalised True", doc: `{"a":True}`, wantErr: ErrSyntax},
		{name: "undefined", doc: `{"a":undefined}`, wantErr: ErrSyntax},

		// Strings.
		{name: "unterminated string", doc: `{"a":"abc}`, wantErr: ErrSyntax},
		{name: "unterminated after escape", doc: `{"a":"abc\`, wantErr: ErrSyntax},
		{name: "unknown escape", doc: `{"a":"\x41"}`, wantErr: ErrSyntax},
		{name: "escaped single quote", doc: `{"a":"\'"}`, wantErr: ErrSyntax},
		{name: "short unicode escape", doc: `{"a":"\u12"}`, wantErr: ErrSyntax},
		{name: "non-hex unicode escape", doc: `{"a":"\u12G4"}`, wantErr: ErrSyntax},
		{name: "uppercase U escape", doc: `{"a":"\U0041"}`, wantErr: ErrSyntax},
		{name: "lone high surrogate", doc: `{"a":"\ud800"}`, wantErr: ErrUTF8},
		{name: "lone high surrogate then text", doc: `{"a":"\ud800abcdef"}`, wantErr: ErrUTF8},
		{name: "lone low surrogate", doc: `{"a":"\udc00"}`, wantErr: ErrUTF8},
		{name: "reversed surrogates", doc: `{"a":"\ude00\ud83d"}`, wantErr: ErrUTF8},
		{name: "two high surrogates", doc: `{"a":"\ud800\ud800"}`, wantErr: ErrUTF8},
		{name: "high surrogate then BMP", doc: `{"a":"\ud800\u0041"}`, wantErr: ErrUTF8},
		{name: "high surrogate then bad hex", doc: `{"a":"\ud800\uZZZZ"}`, wantErr: ErrSyntax},
		{name: "lone surrogate in key", doc: `{"\ud800":1}`, wantErr: ErrUTF8},
		{name: "raw newline", doc: "{\"a\":\"a\nb\"}", wantErr: ErrSyntax},
		{name: "raw tab", doc: "{\"a\":\"a\tb\"}", wantErr: ErrSyntax},
		{name: "raw NUL", doc: "{\"a\":\"\x00\"}", wantErr: ErrSyntax},
		{name: "raw control after escape", doc: "{\"a\":\"\\n\x1f\"}", wantErr: ErrSyntax},
		{name: "invalid UTF-8 byte", doc: "{\"a\":\"\xff\"}", wantErr: ErrUTF8},
		{name: "invalid UTF-8 after escape", doc: "{\"a\":\"\\n\xff\"}", wantErr: ErrUTF8},
		{name: "invalid UTF-8 in key", doc: "{\"\xc3\":1}", wantErr: ErrUTF8},
		{name: "overlong encoding", doc: "{\"a\":\"\xc0\xaf\"}", wantErr: ErrUTF8},
		{name: "UTF-8 surrogate", doc: "{\"a\":\"\xed\xa0\x80\"}", wantErr: ErrUTF8},
		{name: "truncated UTF-8", doc: "{\"a\":\"\xe2\x82\"}", wantErr: ErrUTF8},
		{name: "beyond U+10FFFF", doc: "{\"a\":\"\xf4\x90\x80\x80\"}", wantErr: ErrUTF8},
		{name: "invalid UTF-8 nested", doc: "{\"a\":[{\"b\":\"\xff\"}]}", wantErr: ErrUTF8},
		{name: "invalid UTF-8 outside strings", doc: "{\"a\":1\xff}", wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			members, err := scanAllTypes(t, tt.doc)
			checkErr(t, "scan "+tt.reason, tt.wantErr, err)
			if tt.wantErr != nil {
				return
			}
			var keys []string
			for _, m := range members {
				keys = append(keys, m.Key)
			}
			if diff := cmp.Diff(tt.wantKeys, keys); diff != "" {
				t.Errorf("keys mismatch (-want +got):\n%s", diff)
			}
			if !json.Valid([]byte(tt.doc)) {
				t.Errorf("encoding/json rejects a document we accept")
			}
			checkAgainstJSON(t, []byte(tt.doc), members)
		})
	}
}

// checkAgainstJSON decodes doc's top-level members with encoding/json and
// compares them with what the scanner read.
func checkAgainstJSON(t *testing.T, doc []byte, members []member) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("encoding/json: first token %v, %v", tok, err)
	}
	n := 0
	for i := 0; dec.More(); i++ {
		n++
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("encoding/json key %d: %v", i, err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("encoding/json value %d: %v", i, err)
		}
		if i >= len(members) {
			t.Fatalf("encoding/json found more members than the scanner (%d)", len(members))
		}
		m := members[i]
		if key != m.Key {
			t.Fatalf("member %d: key %q, encoding/json %q", i, m.Key, key)
		}
		if string(raw) != m.Raw {
			t.Fatalf("member %q: raw %q, encoding/json %q", key, m.Raw, raw)
		}
		switch m.Kind {
		case String:
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || s != m.Str {
				t.Fatalf("member %q: unescaped %q, encoding/json %q (%v)", key, m.Str, s, err)
			}
		case Array:
			var elems []any
			if err := json.Unmarshal(raw, &elems); err != nil {
				t.Fatalf("member %q: encoding/json: %v", key, err)
			}
			var ss []string
			for _, e := range elems {
				if s, ok := e.(string); ok {
					ss = append(ss, s)
				}
			}
			allStrings := len(ss) == len(elems)
			if m.ArrOK != allStrings {
				t.Fatalf("member %q: StringArray ok = %v on %s", key, m.ArrOK, raw)
			}
			if m.ArrOK && !cmp.Equal(ss, m.Arr, cmpopts.EquateEmpty()) {
				t.Fatalf("member %q: StringArray %q, encoding/json %q", key, m.Arr, ss)
			}
		case Number:
			var f float64
			err := json.Unmarshal(raw, &f)
			if m.NumOK != (err == nil) {
				t.Fatalf("member %q: Number ok = %v, encoding/json error %v", key, m.NumOK, err)
			}
			if m.NumOK && f != m.Num {
				t.Fatalf("member %q: Number %v, encoding/json %v", key, m.Num, f)
			}
		case Bool, Null, Object:
			if !json.Valid(raw) {
				t.Fatalf("member %q: %s is not valid JSON", key, raw)
			}
		default:
			t.Fatalf("member %q: Peek returned %v before a valid value", key, m.Kind)
		}
	}
	if len(members) != n {
		t.Fatalf("scanner found %d members, encoding/json %d", len(members), n)
	}
}

// value positions a scanner of type S on the value of the only member of
// {"k": v}.
func value[S ~string | ~[]byte](t *testing.T, v string) *Scanner[S] {
	t.Helper()
	sc := New(S(`{"k":` + v + `}`))
	if err := sc.Begin(); err != nil {
		t.Fatal(err)
	}
	if key, done, err := sc.Next(); err != nil || done || string(key) != "k" {
		t.Fatalf("Next = %q, %v, %v", key, done, err)
	}
	return &sc
}

// closes checks that the scanner stands right before the closing brace.
func closes[S ~string | ~[]byte](t *testing.T, sc *Scanner[S]) {
	t.Helper()
	if _, done, err := sc.Next(); !done || err != nil {
		t.Fatalf("after the value: Next done = %v, err = %v; want the closing brace", done, err)
	}
	if err := sc.End(); err != nil {
		t.Fatalf("End: %v", err)
	}
}

// both runs f as subtests over a string and a []byte scanner.
func both(t *testing.T, f func(t *testing.T, isBytes bool)) {
	t.Run("string", func(t *testing.T) { t.Parallel(); f(t, false) })
	t.Run("bytes", func(t *testing.T) { t.Parallel(); f(t, true) })
}

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       string
		want    string
		wantErr error
	}{
		{name: "plain", v: `"abc"`, want: "abc"},
		{name: "empty", v: `""`, want: ""},
		{name: "leading space", v: ` "abc"`, want: "abc"},
		{name: "escapes", v: `"a\"b\\c\/d\be\ff\ng\rh\ti"`, want: "a\"b\\c/d\be\ff\ng\rh\ti"},
		{name: "unicode escapes", v: `"\u0041\u00e9\u20AC"`, want: "Aé€"},
		{name: "surrogate pair", v: `"x\ud83d\ude00y"`, want: "x😀y"},
		{name: "NUL escape", v: `"\u0000"`, want: "\x00"},
		{name: "raw UTF-8", v: `"日本"`, want: "日本"},
		{name: "raw UTF-8 after escape", v: `"\n日本"`, want: "\n日本"},
		{name: "escaped U+FFFD", v: `"\ufffd"`, want: "\ufffd"},
		{name: "number", v: `1`, wantErr: ErrType},
		{name: "array", v: `["a"]`, wantErr: ErrType},
		{name: "null", v: `null`, wantErr: ErrType},
		{name: "bare word", v: `abc`, wantErr: ErrSyntax},
		{name: "lone surrogate", v: `"\udfff"`, wantErr: ErrUTF8},
		{name: "control", v: "\"\x01\"", wantErr: ErrSyntax},
		{name: "invalid UTF-8", v: "\"\x80\"", wantErr: ErrUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, func(t *testing.T, isBytes bool) {
				var got string
				var err error
				if isBytes {
					sc := value[[]byte](t, tt.v)
					var b []byte
					b, err = sc.String()
					got = string(b)
					if err == nil {
						closes(t, sc)
					}
				} else {
					sc := value[string](t, tt.v)
					got, err = sc.String()
					if err == nil {
						closes(t, sc)
					}
				}
				checkErr(t, "String", tt.wantErr, err)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("String mismatch (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestStringShares checks the documented zero-copy behaviour: a string
// without escapes is a sub-slice of the input.
func TestStringShares(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"k":"abc"}`)
	sc := New(doc)
	if err := sc.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.Next(); err != nil {
		t.Fatal(err)
	}
	v, err := sc.String()
	if err != nil {
		t.Fatal(err)
	}
	doc[6] = 'X'
	if diff := cmp.Diff("Xbc", string(v)); diff != "" {
		t.Errorf("String result does not share the input (-want +got):\n%s", diff)
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       string
		want    float64
		wantErr error
		reason  string
	}{
		{name: "zero", v: `0`, want: 0},
		{name: "negative zero", v: `-0`, want: math.Copysign(0, -1)},
		{name: "NumericDate", v: `1700000000`, want: 1700000000},
		{name: "15 digits", v: `999999999999999`, want: 999999999999999},
		{name: "16 digits", v: `9007199254740993`, want: 9007199254740992, reason: "rounded as ParseFloat does"},
		{name: "negative", v: `-42`, want: -42},
		{name: "fraction", v: `1.5`, want: 1.5},
		{name: "exponent", v: `2e3`, want: 2000},
		{name: "negative exponent", v: `25E-1`, want: 2.5},
		{name: "tiny", v: `1e-400`, want: 0, reason: "underflow rounds to zero, as encoding/json"},
		{name: "overflow", v: `1e400`, wantErr: ErrRange},
		{name: "negative overflow", v: `-1e400`, wantErr: ErrRange},
		{name: "string", v: `"1"`, wantErr: ErrType},
		{name: "bool", v: `true`, wantErr: ErrType},
		{name: "null", v: `null`, wantErr: ErrType},
		{name: "lone minus", v: `-`, wantErr: ErrSyntax},
		{name: "minus letter", v: `-a`, wantErr: ErrSyntax},
		{name: "dot", v: `.5`, wantErr: ErrSyntax},
		{name: "trailing dot", v: `1.`, wantErr: ErrSyntax},
		{name: "bare e", v: `1e`, wantErr: ErrSyntax},
		{name: "NaN", v: `NaN`, wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, func(t *testing.T, isBytes bool) {
				var got float64
				var err error
				if isBytes {
					sc := value[[]byte](t, tt.v)
					if got, err = sc.Number(); err == nil {
						closes(t, sc)
					}
				} else {
					sc := value[string](t, tt.v)
					if got, err = sc.Number(); err == nil {
						closes(t, sc)
					}
				}
				checkErr(t, "Number", tt.wantErr, err)
				if got != tt.want || math.Signbit(got) != math.Signbit(tt.want) {
					t.Errorf("Number = %v, want %v", got, tt.want)
				}
				if tt.wantErr == nil {
					var f float64
					if err := json.Unmarshal([]byte(tt.v), &f); err != nil || f != got {
						t.Errorf("encoding/json reads %s as %v (%v), we read %v", tt.v, f, err, got)
					}
				}
			})
		})
	}
}

func TestBoolNull(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		v           string
		wantBool    bool
		wantBoolErr error
		wantNull    bool
	}{
		{name: "true", v: `true`, wantBool: true},
		{name: "false", v: `false`, wantBool: false},
		{name: "spaced", v: ` true `, wantBool: true},
		{name: "null", v: `null`, wantBoolErr: ErrType, wantNull: true},
		{name: "number", v: `1`, wantBoolErr: ErrType},
		{name: "string", v: `"true"`, wantBoolErr: ErrType},
		{name: "capitalised", v: `True`, wantBoolErr: ErrSyntax},
		{name: "truncated", v: `tru`, wantBoolErr: errAny},
		{name: "truncated null", v: `nul`, wantBoolErr: ErrType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, func(t *testing.T, isBytes bool) {
				var gotBool, gotNull bool
				var err error
				if isBytes {
					sc := value[[]byte](t, tt.v)
					if gotBool, err = sc.Bool(); err == nil {
						closes(t, sc)
					}
					sc = value[[]byte](t, tt.v)
					if gotNull = sc.Null(); gotNull {
						closes(t, sc)
					}
				} else {
					sc := value[string](t, tt.v)
					if gotBool, err = sc.Bool(); err == nil {
						closes(t, sc)
					}
					sc = value[string](t, tt.v)
					if gotNull = sc.Null(); gotNull {
						closes(t, sc)
					}
				}
				checkErr(t, "Bool", tt.wantBoolErr, err)
				if gotBool != tt.wantBool {
					t.Errorf("Bool = %v, want %v", gotBool, tt.wantBool)
				}
				if gotNull != tt.wantNull {
					t.Errorf("Null = %v, want %v", gotNull, tt.wantNull)
				}
			})
		})
	}
}

// TestNullConsumesNothing: a failed Null leaves the value to be read.
func TestNullConsumesNothing(t *testing.T) {
	t.Parallel()
	sc := value[string](t, `"x"`)
	if sc.Null() {
		t.Fatal(`Null() = true on "x"`)
	}
	if got, err := sc.String(); err != nil || got != "x" {
		t.Fatalf("String after Null = %q, %v", got, err)
	}
	closes(t, sc)
}

func TestStringArray(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       string
		max     int
		want    []string
		wantErr error
		reason  string
	}{
		{name: "empty", v: `[]`, max: 4, want: []string{}},
		{name: "spaced empty", v: `[ ]`, max: 4, want: []string{}},
		{name: "one", v: `["a"]`, max: 4, want: []string{"a"}},
		{name: "several", v: `[ "a" , "b\n" ,"\u00e9"]`, max: 4, want: []string{"a", "b\n", "é"}},
		{name: "at max", v: `["a","b"]`, max: 2, want: []string{"a", "b"}},
		{name: "commas and brackets inside strings", v: `["a,]","\"],"]`, max: 2, want: []string{"a,]", `"],`}},
		{name: "many", v: `[` + strings.Repeat(`"x",`, 99) + `"x"]`, max: 100, want: strings.Split(strings.Repeat("x", 100), "")},
		{name: "over max", v: `["a","b","c"]`, max: 2, wantErr: ErrCount},
		{name: "zero max", v: `["a"]`, max: 0, wantErr: ErrCount},
		{name: "zero max empty", v: `[]`, max: 0, want: []string{}},
		{name: "trailing comma", v: `["a",]`, max: 4, wantErr: ErrSyntax},
		{name: "leading comma", v: `[,"a"]`, max: 4, wantErr: ErrSyntax},
		{name: "missing comma", v: `["a" "b"]`, max: 4, wantErr: ErrSyntax},
		{name: "unclosed", v: `["a"`, max: 4, wantErr: ErrSyntax},
		{name: "number element", v: `["a",1]`, max: 4, wantErr: ErrType},
		{name: "null element", v: `[null]`, max: 4, wantErr: ErrType},
		{name: "nested array", v: `[["a"]]`, max: 4, wantErr: ErrType},
		{name: "bad element", v: `[x]`, max: 4, wantErr: ErrSyntax},
		{name: "lone surrogate element", v: `["\ud800"]`, max: 4, wantErr: ErrUTF8},
		{name: "string", v: `"a"`, max: 4, wantErr: ErrType},
		{name: "null", v: `null`, max: 4, wantErr: ErrType, reason: "callers check Null first"},
		{name: "object", v: `{}`, max: 4, wantErr: ErrType},
		{name: "garbage", v: `x`, max: 4, wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, func(t *testing.T, isBytes bool) {
				var got []string
				var err error
				if isBytes {
					sc := value[[]byte](t, tt.v)
					var arr [][]byte
					if arr, err = sc.StringArray(tt.max); err == nil {
						closes(t, sc)
						got = []string{}
						for _, s := range arr {
							got = append(got, string(s))
						}
					}
				} else {
					sc := value[string](t, tt.v)
					if got, err = sc.StringArray(tt.max); err == nil {
						closes(t, sc)
					}
				}
				checkErr(t, "StringArray", tt.wantErr, err)
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("StringArray mismatch (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestPeekSkip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		v        string
		wantKind Kind
		wantRaw  string
		wantErr  error
	}{
		{name: "string", v: ` "a\"b"`, wantKind: String, wantRaw: `"a\"b"`},
		{name: "number", v: `-1.5e3`, wantKind: Number, wantRaw: `-1.5e3`},
		{name: "true", v: `true`, wantKind: Bool, wantRaw: `true`},
		{name: "false", v: `false`, wantKind: Bool, wantRaw: `false`},
		{name: "null", v: `null`, wantKind: Null, wantRaw: `null`},
		{name: "array", v: `[1, [2], {"a": [3]}]`, wantKind: Array, wantRaw: `[1, [2], {"a": [3]}]`},
		{name: "object", v: `{ "a" : { "b" : null } , "c":[] }`, wantKind: Object, wantRaw: `{ "a" : { "b" : null } , "c":[] }`},
		{name: "empty object", v: `{}`, wantKind: Object, wantRaw: `{}`},
		{name: "nested depth at limit", v: strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), wantKind: Array,
			wantRaw: strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)},
		{name: "too deep", v: strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), wantKind: Array, wantErr: ErrDepth},
		{name: "invalid", v: `x`, wantKind: Invalid, wantErr: ErrSyntax},
		{name: "closing brace", v: ``, wantKind: Invalid, wantErr: ErrSyntax},
		{name: "truncated null", v: `nul`, wantKind: Null, wantErr: ErrSyntax},
		{name: "bad nested string", v: `["\q"]`, wantKind: Array, wantErr: ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			both(t, func(t *testing.T, isBytes bool) {
				var kind, kindAgain Kind
				var raw string
				var err error
				if isBytes {
					sc := value[[]byte](t, tt.v)
					kind, kindAgain = sc.Peek(), sc.Peek()
					var b []byte
					if b, err = sc.Skip(); err == nil {
						closes(t, sc)
					}
					raw = string(b)
				} else {
					sc := value[string](t, tt.v)
					kind, kindAgain = sc.Peek(), sc.Peek()
					if raw, err = sc.Skip(); err == nil {
						closes(t, sc)
					}
				}
				if kind != tt.wantKind || kindAgain != tt.wantKind {
					t.Errorf("Peek = %v then %v, want %v", kind, kindAgain, tt.wantKind)
				}
				checkErr(t, "Skip", tt.wantErr, err)
				if diff := cmp.Diff(tt.wantRaw, raw); diff != "" {
					t.Errorf("Skip mismatch (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestPeekAtEnd(t *testing.T) {
	t.Parallel()
	sc := New("")
	if got := sc.Peek(); got != Invalid {
		t.Errorf("Peek on empty input = %v, want Invalid", got)
	}
	sc = New("   ")
	if got := sc.Peek(); got != Invalid {
		t.Errorf("Peek on white space = %v, want Invalid", got)
	}
}

// TestNextAfterDone: after the closing brace the scanner does not read on.
func TestNextAfterDone(t *testing.T) {
	t.Parallel()
	sc := New(`{"a":1} {"b":2}`)
	if err := sc.Begin(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Skip(); err != nil {
		t.Fatal(err)
	}
	if _, done, err := sc.Next(); !done || err != nil {
		t.Fatalf("Next = done %v, err %v; want done", done, err)
	}
	if err := sc.End(); err != ErrSyntax {
		t.Fatalf("End = %v, want ErrSyntax for a second object", err)
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{}`, ` {"a":1} `, `{"sub":"x","exp":1700000000,"aud":["a","b"],"scopes":null,"fresh":true,"n":-1.5e3}`,
		`{"a":"\ud83d\ude00\u0041\n\"","b":{"c":[1,{"d":[]}]}}`, `{"a":1,}`, `{"a":01}`, `{"a":"\ud800"}`,
		"{\"a\":\"\xff\"}", `{"a":tru}`, `{"a":NaN}`, `[]`, `{"a":[[[[[[[[[[]]]]]]]]]]}`, `{"a":1e400}`,
		`{"a":["x","y"],"b":[]}`, "{\"\\u00e9\":\"é\"}", `{"a":1}x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		members, err := scanAllTypes(t, string(data))
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error %v is not one of the package's sentinels", err)
			}
			return
		}
		// We may be stricter than encoding/json (invalid UTF-8, lone
		// surrogates, depth), never looser.
		if !json.Valid(data) {
			t.Fatalf("scanner accepts %q, encoding/json rejects it", data)
		}
		checkAgainstJSON(t, data, members)
	})
}
