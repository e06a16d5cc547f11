// Package jsonscan is a strict, allocation-light, single-pass reader of JSON
// objects, made for the small untrusted objects inside a JWT (header and
// claims). It accepts only RFC 8259 JSON that is valid UTF-8, with no
// trailing data, and bounds nesting depth. Strings without escapes are
// returned as sub-slices of the input (no copy); numbers are parsed without
// allocation.
package jsonscan

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects inside a value.
const MaxDepth = 32

// Errors returned by the scanner. They describe the input, never include it.
var (
	ErrSyntax = errors.New("invalid JSON")
	ErrType   = errors.New("unexpected JSON type")
	ErrDepth  = errors.New("JSON nested too deeply")
	ErrUTF8   = errors.New("JSON string is not valid UTF-8")
	ErrCount  = errors.New("too many JSON array elements")
	ErrRange  = errors.New("JSON number out of range")
)

// Kind is the JSON type of the next value.
type Kind uint8

// The JSON kinds.
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// Scanner reads one JSON object from s. S is string (sub-strings share the
// input's memory) or []byte.
type Scanner[S ~string | ~[]byte] struct {
	s     S
	i     int
	first bool
}

// New returns a scanner positioned before the opening brace of the object in s.
func New[S ~string | ~[]byte](s S) Scanner[S] {
	return Scanner[S]{s: s}
}

func (sc *Scanner[S]) skipSpace() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// Begin consumes the opening brace of the top-level object.
func (sc *Scanner[S]) Begin() error {
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != '{' {
		return ErrType
	}
	sc.i++
	sc.first = true
	return nil
}

// Next reads the next member name of the current object and the colon after
// it. It returns done at the closing brace; after that, End must be called.
func (sc *Scanner[S]) Next() (key S, done bool, err error) {
	sc.skipSpace()
	if sc.i >= len(sc.s) {
		return key, false, ErrSyntax
	}
	if sc.s[sc.i] == '}' {
		sc.i++
		return key, true, nil
	}
	if !sc.first {
		if sc.s[sc.i] != ',' {
			return key, false, ErrSyntax
		}
		sc.i++
		sc.skipSpace()
	}
	sc.first = false
	key, err = sc.String()
	if err != nil {
		if err == ErrType {
			err = ErrSyntax
		}
		return key, false, err
	}
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
		return key, false, ErrSyntax
	}
	sc.i++
	return key, false, nil
}

// End checks that nothing but white space follows the top-level object.
func (sc *Scanner[S]) End() error {
	sc.skipSpace()
	if sc.i != len(sc.s) {
		return ErrSyntax
	}
	return nil
}

// Peek reports the kind of the next value without consuming it.
func (sc *Scanner[S]) Peek() Kind {
	sc.skipSpace()
	if sc.i >= len(sc.s) {
		return Invalid
	}
	switch c := sc.s[sc.i]; {
	case c == '"':
		return String
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

func (sc *Scanner[S]) literal(word string) bool {
	if len(sc.s)-sc.i < len(word) {
		return false
	}
	for j := 0; j < len(word); j++ {
		if sc.s[sc.i+j] != word[j] {
			return false
		}
	}
	sc.i += len(word)
	return true
}

// Null consumes a null and reports whether the next value was one.
func (sc *Scanner[S]) Null() bool {
	sc.skipSpace()
	return sc.literal("null")
}

// Bool reads a true or false.
func (sc *Scanner[S]) Bool() (bool, error) {
	sc.skipSpace()
	switch {
	case sc.literal("true"):
		return true, nil
	case sc.literal("false"):
		return false, nil
	}
	if k := sc.Peek(); k == Invalid || k == Bool {
		return false, ErrSyntax // "tru", "fals"
	}
	return false, ErrType
}

// String reads a string value, unescaping it. Without escapes the result
// shares the input's memory.
func (sc *Scanner[S]) String() (S, error) {
	var zero S
	sc.skipSpace()
	if sc.i >= len(sc.s) {
		return zero, ErrSyntax
	}
	if sc.s[sc.i] != '"' {
		if sc.Peek() == Invalid {
			return zero, ErrSyntax
		}
		return zero, ErrType
	}
	start := sc.i + 1
	j := start
	for j < len(sc.s) {
		c := sc.s[j]
		switch {
		case c == '"':
			sc.i = j + 1
			return sc.s[start:j], nil
		case c == '\\':
			return sc.unescape(start)
		case c < 0x20:
			return zero, ErrSyntax
		case c < utf8.RuneSelf:
			j++
		default:
			r, size := decodeRune(sc.s[j:])
			if r == utf8.RuneError && size <= 1 {
				return zero, ErrUTF8
			}
			j += size
		}
	}
	return zero, ErrSyntax
}

func decodeRune[S ~string | ~[]byte](s S) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	// Named types: fall back to a copy of at most 4 bytes.
	var b [utf8.UTFMax]byte
	n := copy(b[:], string(s[:min(len(s), utf8.UTFMax)]))
	return utf8.DecodeRune(b[:n])
}

// unescape decodes a string containing escapes, starting at its first byte.
func (sc *Scanner[S]) unescape(start int) (S, error) {
	var zero S
	buf := make([]byte, 0, 32)
	j := start
	for j < len(sc.s) {
		c := sc.s[j]
		switch {
		case c == '"':
			sc.i = j + 1
			return S(buf), nil
		case c < 0x20:
			return zero, ErrSyntax
		case c == '\\':
			if j+1 >= len(sc.s) {
				return zero, ErrSyntax
			}
			e := sc.s[j+1]
			j += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(sc.s, j)
				if !ok {
					return zero, ErrSyntax
				}
				j += 4
				if utf16.IsSurrogate(r) {
					// A high surrogate must be followed by an escaped low one.
					if j+6 > len(sc.s) || sc.s[j] != '\\' || sc.s[j+1] != 'u' {
						return zero, ErrUTF8
					}
					r2, ok := hex4(sc.s, j+2)
					if !ok {
						return zero, ErrSyntax
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return zero, ErrUTF8
					}
					j += 6
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return zero, ErrSyntax
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			j++
		default:
			r, size := decodeRune(sc.s[j:])
			if r == utf8.RuneError && size <= 1 {
				return zero, ErrUTF8
			}
			buf = append(buf, sc.s[j:j+size]...)
			j += size
		}
	}
	return zero, ErrSyntax
}

func hex4[S ~string | ~[]byte](s S, j int) (rune, bool) {
	if j+4 > len(s) {
		return 0, false
	}
	var r rune
	for k := j; k < j+4; k++ {
		c := s[k]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// numberSpan consumes a number and returns its text, checking the grammar.
func (sc *Scanner[S]) numberSpan() (S, error) {
	var zero S
	sc.skipSpace()
	start := sc.i
	j := sc.i
	if j < len(sc.s) && sc.s[j] == '-' {
		j++
	}
	if j >= len(sc.s) {
		return zero, ErrSyntax
	}
	switch c := sc.s[j]; {
	case c == '0':
		j++
	case c >= '1' && c <= '9':
		for j < len(sc.s) && sc.s[j] >= '0' && sc.s[j] <= '9' {
			j++
		}
	default:
		if j == start && sc.Peek() != Invalid {
			return zero, ErrType
		}
		return zero, ErrSyntax
	}
	if j < len(sc.s) && sc.s[j] == '.' {
		j++
		d := j
		for j < len(sc.s) && sc.s[j] >= '0' && sc.s[j] <= '9' {
			j++
		}
		if j == d {
			return zero, ErrSyntax
		}
	}
	if j < len(sc.s) && (sc.s[j] == 'e' || sc.s[j] == 'E') {
		j++
		if j < len(sc.s) && (sc.s[j] == '+' || sc.s[j] == '-') {
			j++
		}
		d := j
		for j < len(sc.s) && sc.s[j] >= '0' && sc.s[j] <= '9' {
			j++
		}
		if j == d {
			return zero, ErrSyntax
		}
	}
	sc.i = j
	return sc.s[start:j], nil
}

// Number reads a number as a float64.
func (sc *Scanner[S]) Number() (float64, error) {
	span, err := sc.numberSpan()
	if err != nil {
		return 0, err
	}
	// Fast path: a short non-negative integer, as every NumericDate we mint is.
	if len(span) <= 15 {
		var n int64
		ok := true
		for k := 0; k < len(span); k++ {
			c := span[k]
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			return float64(n), nil
		}
	}
	f, err := strconv.ParseFloat(string(span), 64)
	if err != nil {
		return 0, ErrRange
	}
	return f, nil
}

// StringArray reads an array of strings, at most max elements. An empty
// array gives a non-nil empty slice. null is not accepted here; callers
// check Null first where it is allowed.
func (sc *Scanner[S]) StringArray(max int) ([]S, error) { return sc.AppendStrings(nil, max) }

// AppendStrings is StringArray appending to dst (nil, or an empty slice
// with room to spare, so that a short array needs no allocation).
func (sc *Scanner[S]) AppendStrings(dst []S, max int) ([]S, error) {
	sc.skipSpace()
	if sc.i >= len(sc.s) {
		return nil, ErrSyntax
	}
	if sc.s[sc.i] != '[' {
		if sc.Peek() == Invalid {
			return nil, ErrSyntax
		}
		return nil, ErrType
	}
	sc.i++
	sc.skipSpace()
	out := dst[:0]
	if out == nil {
		out = []S{}
	}
	if sc.i < len(sc.s) && sc.s[sc.i] == ']' {
		sc.i++
		return out, nil
	}
	for {
		if len(out) == max {
			return nil, ErrCount
		}
		v, err := sc.String()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		sc.skipSpace()
		if sc.i >= len(sc.s) {
			return nil, ErrSyntax
		}
		switch sc.s[sc.i] {
		case ',':
			sc.i++
		case ']':
			sc.i++
			return out, nil
		default:
			return nil, ErrSyntax
		}
	}
}

// Skip validates and consumes any value, returning its raw text.
func (sc *Scanner[S]) Skip() (S, error) {
	sc.skipSpace()
	start := sc.i
	if err := sc.skip(0); err != nil {
		var zero S
		return zero, err
	}
	return sc.s[start:sc.i], nil
}

func (sc *Scanner[S]) skip(depth int) error {
	switch sc.Peek() {
	case String:
		_, err := sc.String()
		return err
	case Number:
		_, err := sc.numberSpan()
		return err
	case Bool:
		_, err := sc.Bool()
		return err
	case Null:
		if !sc.Null() {
			return ErrSyntax
		}
		return nil
	case Array:
		if depth >= MaxDepth {
			return ErrDepth
		}
		sc.i++
		sc.skipSpace()
		if sc.i < len(sc.s) && sc.s[sc.i] == ']' {
			sc.i++
			return nil
		}
		for {
			if err := sc.skip(depth + 1); err != nil {
				return err
			}
			sc.skipSpace()
			if sc.i >= len(sc.s) {
				return ErrSyntax
			}
			switch sc.s[sc.i] {
			case ',':
				sc.i++
			case ']':
				sc.i++
				return nil
			default:
				return ErrSyntax
			}
		}
	case Object:
		if depth >= MaxDepth {
			return ErrDepth
		}
		sc.i++
		first := true
		for {
			sc.skipSpace()
			if sc.i >= len(sc.s) {
				return ErrSyntax
			}
			if sc.s[sc.i] == '}' {
				sc.i++
				return nil
			}
			if !first {
				if sc.s[sc.i] != ',' {
					return ErrSyntax
				}
				sc.i++
			}
			first = false
			if sc.Peek() != String {
				return ErrSyntax
			}
			if _, err := sc.String(); err != nil {
				return err
			}
			sc.skipSpace()
			if sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
				return ErrSyntax
			}
			sc.i++
			if err := sc.skip(depth + 1); err != nil {
				return err
			}
		}
	}
	return ErrSyntax
}
