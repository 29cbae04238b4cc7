package openssl

import (
	"sync"
	"time"

	"github.com/nodetls/nodetls/cbridge"
)

// Session is a TLS session (SSL_SESSION): what a client resumes with, and
// what a server keeps in an external session-ID cache.
//
// Ownership: a Session holds one reference. Whoever receives a Session
// (ParseSession, Conn.Session, Ref, ConnConfig.OnNewSession) owns it and
// calls Free when done; connections that use it take references of their
// own, so freeing it never disturbs them. ConnConfig.GetSession is the one
// exception: the Session it returns is handed over to OpenSSL and is freed
// afterwards (a cache that keeps its Session returns a Ref).
//
// When the client context's session cache mode includes SessCacheClient (as
// OnNewSession needs), OpenSSL uses a TLS 1.3 session once: after it resumed
// a connection it is no longer Resumable, and the next connection uses a
// newer ticket. Likewise a TLS 1.2 session whose ticket the server renewed
// is no longer Resumable; the connection's Conn.Session carries the new ticket.
//
// A Session is safe for concurrent use. After Free its methods return zero
// values and Free does nothing.
type Session struct {
	mu sync.RWMutex
	s  *cbridge.Session // nil once freed or handed over
}

func newSessionFrom(h *cbridge.Session) *Session {
	if h == nil {
		return nil
	}
	return &Session{s: h}
}

// ParseSession reads a DER session (as Session.DER writes it, or Node's
// getSession()). Data that is not exactly one DER session is an error with
// OpenSSL's reason ("too long", "wrong tag", ...), or "trailing data" when
// bytes follow the session.
func ParseSession(der []byte) (*Session, error) {
	s, err := cbridge.SessionFromDER(der)
	if err != nil {
		return nil, err
	}
	return &Session{s: s}, nil
}

// read runs f on the live handle under the read lock; it does nothing after Free.
func (s *Session) read(f func(h *cbridge.Session)) {
	if s == nil {
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.s != nil {
		f(s.s)
	}
}

// use runs f on the live handle, or fails when the session was freed.
func (s *Session) use(op string, f func(h *cbridge.Session) error) error {
	if s == nil {
		return cbridge.NewError(op, "nodetls", "nil session")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.s == nil {
		return cbridge.NewError(op, "nodetls", "session is freed")
	}
	return f(s.s)
}

// handOver gives this Session's reference to the caller and leaves the
// Session freed; nil if it was already.
func (s *Session) handOver() *cbridge.Session {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.s
	s.s = nil
	return h
}

// DER serialises the session (i2d_SSL_SESSION); nil after Free.
func (s *Session) DER() []byte {
	var b []byte
	s.read(func(h *cbridge.Session) { b = h.DER() })
	return b
}

// ID is the session id (empty for a TLS 1.2 session resumed by ticket only).
func (s *Session) ID() []byte {
	var b []byte
	s.read(func(h *cbridge.Session) { b = h.ID() })
	return b
}

// Protocol is the protocol version the session was made with.
func (s *Session) Protocol() ProtocolVersion {
	var v int
	s.read(func(h *cbridge.Session) { v = h.Protocol() })
	return ProtocolVersion(v)
}

// Time is when the session was made (whole seconds).
func (s *Session) Time() time.Time {
	var t int64
	s.read(func(h *cbridge.Session) { t = h.Time() })
	return time.Unix(t, 0)
}

// Timeout is the session's lifetime from Time (SSL_SESSION_get_timeout): the
// server context's session timeout; on a client, for a ticket, the ticket's
// lifetime hint when the server sent one.
func (s *Session) Timeout() time.Duration {
	var n int64
	s.read(func(h *cbridge.Session) { n = h.TimeoutSeconds() })
	return time.Duration(n) * time.Second
}

// Expired reports whether the session's lifetime has ended at t, by
// OpenSSL's rule (whole seconds: expired once t is past Time + Timeout). An
// external cache can drop expired sessions; OpenSSL refuses them anyway. A
// freed session counts as expired.
func (s *Session) Expired(t time.Time) bool {
	var at, life int64
	ok := false
	s.read(func(h *cbridge.Session) { at, life, ok = h.Time(), h.TimeoutSeconds(), true })
	return !ok || t.Unix() > at+life
}

// Resumable reports whether the session can be resumed (SSL_SESSION_is_resumable).
// OpenSSL marks a session it found expired in a server's external cache as
// not resumable (TLS 1.2 session-ID lookups).
func (s *Session) Resumable() bool {
	var v bool
	s.read(func(h *cbridge.Session) { v = h.Resumable() })
	return v
}

// HasTicket reports whether the session carries a ticket (client side).
func (s *Session) HasTicket() bool {
	var v bool
	s.read(func(h *cbridge.Session) { v = h.HasTicket() })
	return v
}

// Ticket is a copy of the session's ticket as the server sent it, nil if none.
func (s *Session) Ticket() []byte {
	var b []byte
	s.read(func(h *cbridge.Session) { b = h.Ticket() })
	return b
}

// TicketLifetimeHint is the lifetime the server gave the ticket; 0 when none.
func (s *Session) TicketLifetimeHint() time.Duration {
	var n int64
	s.read(func(h *cbridge.Session) { n = h.TicketLifetimeHint() })
	return time.Duration(n) * time.Second
}

// Ref returns a second, independently freed reference to the session; nil
// after Free.
func (s *Session) Ref() *Session {
	var r *cbridge.Session
	s.read(func(h *cbridge.Session) { r = h.Ref() })
	return newSessionFrom(r)
}

// Free releases this reference. It is idempotent.
func (s *Session) Free() {
	if h := s.handOver(); h != nil {
		h.Free()
	}
}

// checkSessionCacheMode makes sure OnNewSession can be called at all: OpenSSL
// hands sessions to the callback only when the context's session cache mode
// includes this side (SessCacheClient or SessCacheServer).
func (c *Conn) checkSessionCacheMode() error {
	want, name := SessCacheClient, "SessCacheClient"
	if c.server {
		want, name = SessCacheServer, "SessCacheServer"
	}
	if c.ctx.SessionCacheMode()&want == 0 {
		return cbridge.NewError("SSL_CTX_sess_set_new_cb", "nodetls",
			"OnNewSession needs the context's session cache mode to include "+name)
	}
	return nil
}
