package parity

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/nodetls/nodetls/tls"
)

// optReader reads Node-named options and remembers which were used, so an
// option nobody reads is reported instead of silently ignored.
type optReader struct {
	m    map[string]any
	used map[string]bool
	err  error
}

func newOptReader(m map[string]any) *optReader { return &optReader{m: m, used: map[string]bool{}} }

func (r *optReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

func (r *optReader) str(k string) string {
	v, ok := r.m[k]
	if !ok || v == nil {
		return ""
	}
	r.used[k] = true
	s, ok := v.(string)
	if !ok {
		r.fail("option %s: want a string, got %T", k, v)
	}
	return s
}

// bytes reads a PEM string or a {"$hex": ...} buffer.
func (r *optReader) bytes(k string) []byte {
	v, ok := r.m[k]
	if !ok || v == nil {
		return nil
	}
	r.used[k] = true
	return toBytes(r, k, v)
}

func toBytes(r *optReader, k string, v any) []byte {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case map[string]any:
		h, _ := x["$hex"].(string)
		b, err := hex.DecodeString(h)
		if err != nil {
			r.fail("option %s: bad hex: %v", k, err)
		}
		return b
	case []any:
		var out []byte
		for _, e := range x {
			out = append(out, toBytes(r, k, e)...)
		}
		return out
	case []string:
		var out []byte
		for _, e := range x {
			out = append(out, e...)
		}
		return out
	}
	r.fail("option %s: want PEM text or {$hex}, got %T", k, v)
	return nil
}

func (r *optReader) boolean(k string) (bool, bool) {
	v, ok := r.m[k]
	if !ok || v == nil {
		return false, false
	}
	r.used[k] = true
	b, ok := v.(bool)
	if !ok {
		r.fail("option %s: want a bool, got %T", k, v)
	}
	return b, true
}

func (r *optReader) number(k string) (float64, bool) {
	v, ok := r.m[k]
	if !ok || v == nil {
		return 0, false
	}
	r.used[k] = true
	f, ok := v.(float64)
	if !ok {
		if i, isInt := v.(int); isInt {
			return float64(i), true
		}
		r.fail("option %s: want a number, got %T", k, v)
	}
	return f, true
}

func (r *optReader) strings(k string) []string {
	v, ok := r.m[k]
	if !ok || v == nil {
		return nil
	}
	r.used[k] = true
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				r.fail("option %s: want strings", k)
			}
			out[i] = s
		}
		return out
	}
	r.fail("option %s: want an array of strings, got %T", k, v)
	return nil
}

func (r *optReader) done() error {
	if r.err != nil {
		return r.err
	}
	for k := range r.m {
		if !r.used[k] {
			return fmt.Errorf("option %q is not understood by the Go side of the parity harness", k)
		}
	}
	return nil
}

func (r *optReader) secureContext() tls.SecureContextOptions {
	o := tls.SecureContextOptions{
		Key:              r.bytes("key"),
		Cert:             r.bytes("cert"),
		CA:               r.bytes("ca"),
		Passphrase:       r.str("passphrase"),
		PFX:              r.bytes("pfx"),
		CRL:              r.bytes("crl"),
		Ciphers:          r.str("ciphers"),
		Sigalgs:          r.str("sigalgs"),
		ECDHCurve:        r.str("ecdhCurve"),
		DHParam:          r.str("dhparam"),
		MinVersion:       r.str("minVersion"),
		MaxVersion:       r.str("maxVersion"),
		SessionIDContext: r.str("sessionIdContext"),
		TicketKeys:       r.bytes("ticketKeys"),
		SecureProtocol:   r.str("secureProtocol"),
	}
	if b, ok := r.boolean("honorCipherOrder"); ok {
		o.HonorCipherOrder = b
	}
	if b, ok := r.boolean("allowPartialTrustChain"); ok {
		o.AllowPartialTrustChain = b
	}
	if n, ok := r.number("secureOptions"); ok {
		o.SecureOptions = int64(n)
	}
	if n, ok := r.number("sessionTimeout"); ok {
		o.SessionTimeout = time.Duration(n) * time.Second
	}
	return o
}

// SecureContextOptions converts createSecureContext options.
func SecureContextOptions(m map[string]any) (tls.SecureContextOptions, error) {
	r := newOptReader(m)
	o := r.secureContext()
	return o, r.done()
}

// ConnectOptions converts tls.connect options. checkServerIdentity "skip"
// accepts any host; psk {identity, key} becomes a PSKCallback; secureContext
// (an object of createSecureContext options) becomes a SecureContext. An error
// of CreateSecureContext is returned as it is (an *tls.Error).
func ConnectOptions(m map[string]any) (tls.ConnectOptions, error) {
	r := newOptReader(m)
	o := tls.ConnectOptions{SecureContextOptions: r.secureContext()}
	o.Host = r.str("host")
	if n, ok := r.number("port"); ok {
		o.Port = int(n)
	}
	o.Servername = r.str("servername")
	if v, ok := m["secureContext"]; ok && v != nil {
		r.used["secureContext"] = true
		sm, _ := v.(map[string]any)
		sco, err := SecureContextOptions(sm)
		if err != nil {
			return o, err
		}
		sc, err := tls.CreateSecureContext(sco)
		if err != nil {
			return o, err
		}
		o.SecureContext = sc
	}
	o.ALPNProtocols = r.strings("ALPNProtocols")
	if b, ok := r.boolean("rejectUnauthorized"); ok {
		o.RejectUnauthorized = tls.Bool(b)
	}
	if r.str("checkServerIdentity") == "skip" {
		o.CheckServerIdentity = func(string, *tls.Certificate) error { return nil }
	}
	if n, ok := r.number("minDHSize"); ok {
		o.MinDHSize = int(n)
	}
	if b, ok := r.boolean("requestOCSP"); ok {
		o.RequestOCSP = b
	}
	if v, ok := m["psk"]; ok && v != nil {
		r.used["psk"] = true
		p, _ := v.(map[string]any)
		id, _ := p["identity"].(string)
		key, err := hex.DecodeString(fmt.Sprint(p["key"]))
		if err != nil {
			return o, fmt.Errorf("option psk: %v", err)
		}
		o.PSKCallback = func(string) ([]byte, string, bool) { return key, id, true }
	}
	return o, r.done()
}

// ServerOptions converts tls.createServer options.
func ServerOptions(m map[string]any) (tls.ServerOptions, error) {
	r := newOptReader(m)
	o := tls.ServerOptions{SecureContextOptions: r.secureContext()}
	if b, ok := r.boolean("requestCert"); ok {
		o.RequestCert = b
	}
	if b, ok := r.boolean("rejectUnauthorized"); ok {
		o.RejectUnauthorized = tls.Bool(b)
	}
	o.ALPNProtocols = r.strings("ALPNProtocols")
	o.PSKIdentityHint = r.str("pskIdentityHint")
	if n, ok := r.number("handshakeTimeout"); ok {
		o.HandshakeTimeout = time.Duration(n) * time.Millisecond
	}
	if b, ok := r.boolean("enableTrace"); ok {
		o.EnableTrace = b
	}
	if b, ok := m["honorCipherOrder"].(bool); ok && !b {
		o.ClientCipherOrder = true
	}
	return o, r.done()
}
