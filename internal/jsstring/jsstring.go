// Package jsstring turns bytes from OpenSSL into the text Node's JavaScript
// sees, for the three ways Node reads a C string: as UTF-8 (V8's decoder),
// as Latin-1 (one-byte strings) and as 'ascii'.
package jsstring

import "unicode/utf8"

// UTF8 is s as V8 reads UTF-8 text into a JavaScript string (Node's
// String::NewFromUtf8 on what OpenSSL printed): valid UTF-8 as it is; each
// maximal subpart of an ill-formed sequence — a lead byte and the
// continuation bytes that still fit it, or a single byte that cannot start
// a sequence — becomes one U+FFFD (the Unicode standard's recommended
// practice, which V8 and the WHATWG decoder follow). Go's own decoder would
// give one U+FFFD per byte.
func UTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			b = append(b, s[i])
			i++
			continue
		}
		if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size > 1 {
			b = append(b, s[i:i+size]...)
			i += size
			continue
		}
		i += illFormedSubpart(s[i:])
		b = append(b, "\uFFFD"...)
	}
	return string(b)
}

// illFormedSubpart is the length of the maximal subpart at the start of s,
// which does not begin with a well-formed sequence: the lead byte and the
// bytes after it that the well-formed sequences (Unicode Table 3-7) allow
// there, at least 1.
func illFormedSubpart(s string) int {
	lead := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf) // the second byte's range
	switch {
	case lead >= 0xc2 && lead <= 0xdf:
		need = 1
	case lead == 0xe0:
		need, lo = 2, 0xa0
	case lead >= 0xe1 && lead <= 0xec, lead == 0xee, lead == 0xef:
		need = 2
	case lead == 0xed:
		need, hi = 2, 0x9f
	case lead == 0xf0:
		need, lo = 3, 0x90
	case lead >= 0xf1 && lead <= 0xf3:
		need = 3
	case lead == 0xf4:
		need, hi = 3, 0x8f
	default: // 0x80-0xc1, 0xf5-0xff: never a lead byte
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if c := s[n]; c < lo || c > hi {
			break
		}
		lo, hi = 0x80, 0xbf
	}
	return n
}

// Latin1 is b read as Latin-1 (each byte one character, U+0000-U+00FF), as
// Node reads a C string it takes for one-byte text.
func Latin1(b string) string {
	ascii := true
	for i := 0; i < len(b) && ascii; i++ {
		ascii = b[i] < utf8.RuneSelf
	}
	if ascii {
		return b
	}
	out := make([]rune, len(b))
	for i := 0; i < len(b); i++ {
		out[i] = rune(b[i])
	}
	return string(out)
}

// ASCII is b decoded as Node's 'ascii' encoding does: each byte's low seven
// bits are one character.
func ASCII(b string) string {
	out := []byte(b)
	for i := range out {
		out[i] &= 0x7f
	}
	return string(out)
}
