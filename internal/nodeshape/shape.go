// Package nodeshape writes what a nodetls socket or error looks like as the
// JSON a Node program prints for the same thing (JSON.stringify of the same
// properties, keys in Node's order). The nodetls command prints these lines,
// and the Node-parity tests compare them with a node script's.
package nodeshape

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/nodetls/nodetls/tls"
)

// Object is a JSON object that keeps its keys in insertion order.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject makes an empty ordered object.
func NewObject() *Object { return &Object{vals: map[string]any{}} }

// Set adds or replaces a key.
func (o *Object) Set(k string, v any) *Object {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
	return o
}

// MarshalJSON writes the keys in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		var vb []byte
		var err error
		switch v := o.vals[k].(type) {
		case json.RawMessage:
			vb = v
		default:
			vb, err = marshalNoEscape(v)
		}
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// marshalNoEscape is json.Marshal without HTML escaping (JSON.stringify does not escape <, >, &).
func marshalNoEscape(v any) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(sb.String(), "\n")), nil
}

// Line is the object as one JSON line.
func (o *Object) Line() string {
	b, err := o.MarshalJSON()
	if err != nil {
		return `{"event":"error","code":null,"message":"` + err.Error() + `"}`
	}
	return string(b)
}

// nullable is a string or JSON null.
func nullable(s string, ok bool) any {
	if !ok {
		return nil
	}
	return s
}

// orFalse is a string, or false when empty (Node's alpnProtocol, servername).
func orFalse(s string) any {
	if s == "" {
		return false
	}
	return s
}

// Cipher is getCipher()'s object.
func Cipher(c tls.Cipher) *Object {
	return NewObject().Set("name", c.Name).Set("standardName", c.StandardName).Set("version", c.Version)
}

// PeerCertificate is JSON.stringify(getPeerCertificate()) without the Buffer
// fields (raw, pubkey), {} when there is none, as Node prints it.
func PeerCertificate(c *tls.Certificate) json.RawMessage {
	if c == nil {
		return json.RawMessage("{}")
	}
	return json.RawMessage(c.JSON())
}

// SocketFields adds the properties a secure socket shows: authorized,
// authorizationError, protocol, cipher, alpnProtocol, servername,
// isSessionReused, peerCertificate.
func SocketFields(o *Object, s *tls.Socket) *Object {
	o.Set("authorized", s.Authorized())
	if err := s.AuthorizationError(); err != nil {
		var te *tls.Error
		code := err.Error()
		if errors.As(err, &te) {
			code = te.Code
			if code == "" {
				code = te.Message
			}
		}
		o.Set("authorizationError", code)
	} else {
		o.Set("authorizationError", nil)
	}
	o.Set("protocol", s.GetProtocol())
	o.Set("cipher", Cipher(s.GetCipher()))
	o.Set("alpnProtocol", orFalse(s.ALPNProtocol()))
	o.Set("servername", orFalse(s.Servername()))
	o.Set("isSessionReused", s.IsSessionReused())
	o.Set("peerCertificate", PeerCertificate(s.GetPeerCertificate(false)))
	return o
}

// SecureConnect is the client's {"event":"secureConnect",...} line.
func SecureConnect(s *tls.Socket) *Object {
	return SocketFields(NewObject().Set("event", "secureConnect"), s)
}

// SecureConnection is the server's {"event":"secureConnection",...} line.
func SecureConnection(s *tls.Socket) *Object {
	return SocketFields(NewObject().Set("event", "secureConnection"), s)
}

// ErrorFields gives an error's code (null when it has none) and message, as
// Node's err.code and err.message.
func ErrorFields(o *Object, err error) *Object {
	var te *tls.Error
	if errors.As(err, &te) {
		o.Set("code", nullable(te.Code, te.Code != ""))
		o.Set("message", te.Message)
		return o
	}
	o.Set("code", nil)
	o.Set("message", err.Error())
	return o
}

// Error is the client's {"event":"error","code":...,"message":...} line,
// with Node's err.host and err.port when the error has them.
func Error(err error) *Object {
	o := ErrorFields(NewObject().Set("event", "error"), err)
	var te *tls.Error
	if errors.As(err, &te) {
		if te.Host != "" {
			o.Set("host", te.Host)
		}
		if te.Port != 0 {
			o.Set("port", te.Port)
		}
	}
	return o
}

// TLSClientError is the server's {"event":"tlsClientError",...} line.
func TLSClientError(err error) *Object {
	return ErrorFields(NewObject().Set("event", "tlsClientError"), err)
}
