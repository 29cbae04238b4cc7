package openssl

import (
	"encoding/hex"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/nodetls/nodetls/internal/jsstring"
)

// BufferEncoding says how NodeJSON writes the Buffer fields (raw, pubkey).
type BufferEncoding int

const (
	// BufferHex writes a Buffer as a string of lower-case hex digits.
	BufferHex BufferEncoding = iota
	// BufferNode writes a Buffer as JSON.stringify does:
	// {"type":"Buffer","data":[48,130,...]}.
	BufferNode
	// BufferOmit leaves the Buffer fields out.
	BufferOmit
)

// NodeJSON writes the certificate object as Node's JSON.stringify writes the
// object getPeerCertificate() returns: the same keys in the same order
// (subject, issuer, subjectaltname, infoAccess, ca, modulus, bits, exponent,
// pubkey, asn1Curve, nistCurve, valid_from, valid_to, fingerprint,
// fingerprint256, fingerprint512, ext_key_usage, serialNumber, raw), keys
// left out where Node leaves them out, a repeated name attribute as an array,
// strings escaped as JSON.stringify escapes them, and Buffers as enc says.
// issuerCertificate (getPeerCertificate(true)) is not part of it: the chain
// is the connection's, not the certificate's.
func (ci *CertificateInfo) NodeJSON(enc BufferEncoding) []byte {
	w := jsonObject{buf: make([]byte, 0, 1024+3*len(ci.Raw))}
	w.open()
	if ci.Subject != nil {
		w.key("subject")
		writeName(&w, ci.Subject)
	}
	if ci.Issuer != nil {
		w.key("issuer")
		writeName(&w, ci.Issuer)
	}
	if ci.HasSubjectAltName {
		w.key("subjectaltname")
		if ci.SubjectAltNameInvalid {
			w.raw("null")
		} else {
			w.str(ci.SubjectAltName)
		}
	}
	if ci.InfoAccessInvalid {
		w.key("infoAccess")
		w.raw("null")
	} else if ci.InfoAccess != nil {
		w.key("infoAccess")
		writeStringLists(&w, ci.InfoAccess, ci.InfoAccessKeys)
	}
	w.key("ca")
	w.raw(strconv.FormatBool(ci.CA))
	if ci.Modulus != "" {
		w.key("modulus")
		w.str(ci.Modulus)
	}
	if ci.Bits > 0 {
		w.key("bits")
		w.raw(strconv.Itoa(ci.Bits))
	}
	if ci.Exponent != "" {
		w.key("exponent")
		w.str(ci.Exponent)
	}
	if ci.Pubkey != nil && enc != BufferOmit {
		w.key("pubkey")
		w.buffer(ci.Pubkey, enc)
	}
	if ci.ASN1Curve != "" {
		w.key("asn1Curve")
		w.str(ci.ASN1Curve)
	}
	if ci.NISTCurve != "" {
		w.key("nistCurve")
		w.str(ci.NISTCurve)
	}
	w.key("valid_from")
	w.str(ci.ValidFrom)
	w.key("valid_to")
	w.str(ci.ValidTo)
	w.key("fingerprint")
	w.str(ci.Fingerprint)
	w.key("fingerprint256")
	w.str(ci.Fingerprint256)
	w.key("fingerprint512")
	w.str(ci.Fingerprint512)
	if ci.ExtKeyUsage != nil {
		w.key("ext_key_usage")
		w.strs(ci.ExtKeyUsage)
	}
	if ci.SerialNumber != "" {
		w.key("serialNumber")
		w.str(ci.SerialNumber)
	}
	if ci.Raw != nil && enc != BufferOmit {
		w.key("raw")
		w.buffer(ci.Raw, enc)
	}
	w.close()
	return w.buf
}

// MarshalJSON is NodeJSON with Buffers as hex strings.
func (ci *CertificateInfo) MarshalJSON() ([]byte, error) { return ci.NodeJSON(BufferHex), nil }

// writeName writes a name as Node's object: keys in order of first
// appearance, a single value as a string, a repeated attribute as an array.
func writeName(w *jsonObject, n Name) {
	m := n.Map()
	w.open()
	for _, k := range n.keys() {
		w.key(k)
		if vs := m[k]; len(vs) == 1 {
			w.str(vs[0])
		} else {
			w.strs(vs)
		}
	}
	w.close()
}

// writeStringLists writes a map of string lists, keys in the given order (any
// keys not listed follow, sorted).
func writeStringLists(w *jsonObject, m map[string][]string, order []string) {
	keys := append([]string(nil), order...)
	listed := map[string]bool{}
	for _, k := range order {
		listed[k] = true
	}
	var rest []string
	for k := range m {
		if !listed[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	w.open()
	for _, k := range keys {
		if vs, ok := m[k]; ok {
			w.key(k)
			w.strs(vs)
		}
	}
	w.close()
}

// jsonObject writes JSON the way JSON.stringify does, with no spaces.
type jsonObject struct {
	buf   []byte
	first []bool // per open object: no key written yet
}

func (w *jsonObject) open() {
	w.buf = append(w.buf, '{')
	w.first = append(w.first, true)
}

func (w *jsonObject) close() {
	w.buf = append(w.buf, '}')
	w.first = w.first[:len(w.first)-1]
}

func (w *jsonObject) key(k string) {
	top := len(w.first) - 1
	if !w.first[top] {
		w.buf = append(w.buf, ',')
	}
	w.first[top] = false
	w.str(k)
	w.buf = append(w.buf, ':')
}

func (w *jsonObject) raw(s string) { w.buf = append(w.buf, s...) }

func (w *jsonObject) str(s string) { w.buf = appendJSString(w.buf, s) }

func (w *jsonObject) strs(vs []string) {
	w.buf = append(w.buf, '[')
	for i, v := range vs {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(v)
	}
	w.buf = append(w.buf, ']')
}

func (w *jsonObject) buffer(b []byte, enc BufferEncoding) {
	if enc == BufferNode {
		w.buf = append(w.buf, `{"type":"Buffer","data":[`...)
		for i, c := range b {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.buf = strconv.AppendInt(w.buf, int64(c), 10)
		}
		w.buf = append(w.buf, "]}"...)
		return
	}
	w.buf = append(w.buf, '"')
	w.buf = hex.AppendEncode(w.buf, b)
	w.buf = append(w.buf, '"')
}

// appendJSString quotes s as JSON.stringify does: '"' and '\\' escaped, the
// control characters below U+0020 as \b \t \n \f \r or \u00xx, everything else
// (non-ASCII, U+2028, '<', ...) as it is. Bytes that are not UTF-8 become
// U+FFFD as they do when V8 reads such text (jsstring.UTF8).
func appendJSString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	s = jsstring.UTF8(s)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf { // s is valid UTF-8 now: copied as it is
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\t':
			b = append(b, `\t`...)
		case '\n':
			b = append(b, `\n`...)
		case '\f':
			b = append(b, `\f`...)
		case '\r':
			b = append(b, `\r`...)
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}
