package openssl

import (
	"crypto/rand"
	"time"

	"github.com/nodetls/nodetls/cbridge"
)

// TicketKeySize is the size of a session ticket key: bytes 0-15 are the key
// name written at the start of each ticket, 16-31 the HMAC-SHA256 secret and
// 32-47 the AES-128-CBC key. The layout and ticket format are Node's, so a
// Node server with the same 48 bytes resumes our tickets and we resume its.
const TicketKeySize = cbridge.TicketKeyLen

// TicketKey is an older ticket key that still decrypts tickets until Until.
type TicketKey struct {
	Key   []byte // TicketKeySize bytes
	Until time.Time
}

// NewTicketKey returns TicketKeySize random bytes (crypto/rand).
func NewTicketKey() ([]byte, error) {
	k := make([]byte, TicketKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// SetTicketKeys makes the context encrypt session tickets under current and
// also accept tickets made under each older key until its Until. A ticket
// under an older key resumes the session and is renewed: the client gets a
// new ticket under current. A ticket under an unknown or expired key gets a
// full handshake and a new ticket. Older keys already past Until are dropped.
//
// Keys live in C memory attached to the SSL_CTX and are zeroed when replaced,
// expired or freed. A context without keys keeps OpenSSL's own ticket
// handling (random keys per SSL_CTX); once keys are set, tickets made by
// OpenSSL's own keys are no longer accepted. A connection's tickets use the
// keys of the context it was made from, also after an SNI switch to another
// context (OpenSSL's session context; Node's SNI contexts likewise never
// replace the server context's keys). A key of the wrong size is an error and
// changes nothing.
func (c *Context) SetTicketKeys(current []byte, older ...TicketKey) error {
	keys := make([][]byte, len(older))
	until := make([]int64, len(older))
	for i, o := range older {
		if o.Until.IsZero() {
			return cbridge.NewError("SSL_CTX_set_tlsext_ticket_key_evp_cb", "nodetls", "older ticket key without an Until time")
		}
		keys[i], until[i] = o.Key, o.Until.UnixNano()
	}
	return c.with("SSL_CTX_set_tlsext_ticket_key_evp_cb", func(h *cbridge.SSLCtx) error {
		return h.SetTicketKeys(current, keys, until)
	})
}

// RotateTicketKey makes newKey the current ticket key; the previous current
// key still decrypts tickets for grace (tickets under it resume and are
// renewed under newKey), and after that they get a full handshake. A grace of
// 0 drops the previous key at once. It fails when no keys were set.
func (c *Context) RotateTicketKey(newKey []byte, grace time.Duration) error {
	const op = "SSL_CTX_set_tlsext_ticket_key_evp_cb"
	if grace < 0 {
		return cbridge.NewError(op, "nodetls", "negative ticket key grace period")
	}
	until := time.Now().Add(grace).UnixNano()
	if grace == 0 {
		until = 0
	}
	return c.with(op, func(h *cbridge.SSLCtx) error { return h.RotateTicketKey(newKey, until) })
}

// TicketKeys returns a copy of the current ticket key (TicketKeySize bytes),
// or nil when none was set (or after Close).
func (c *Context) TicketKeys() []byte {
	var k []byte
	c.read(func(h *cbridge.SSLCtx) { k = h.TicketKey() })
	return k
}

// TicketKeyCount is how many keys decrypt tickets now: the current key and
// the older keys still in their grace period; 0 when no keys were set.
func (c *Context) TicketKeyCount() int {
	var n int
	c.read(func(h *cbridge.SSLCtx) { n = h.TicketKeyCount() })
	return n
}
