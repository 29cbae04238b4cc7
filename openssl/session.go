package openssl

import "github.com/nodetls/nodetls/cbridge"

// Session is a TLS session (SSL_SESSION) that a client can resume. Free
// releases it; connections that use it hold their own reference.
type Session struct {
	s *cbridge.Session
}

// ParseSession reads a DER session (as Session.DER writes it).
func ParseSession(der []byte) (*Session, error) {
	s, err := cbridge.SessionFromDER(der)
	if err != nil {
		return nil, err
	}
	return &Session{s: s}, nil
}

// DER serialises the session (i2d_SSL_SESSION).
func (s *Session) DER() []byte { return s.s.DER() }

// ID is the session id.
func (s *Session) ID() []byte { return s.s.ID() }

// Resumable reports whether the session can be resumed (SSL_SESSION_is_resumable).
func (s *Session) Resumable() bool { return s.s.Resumable() }

// HasTicket reports whether the session carries a ticket.
func (s *Session) HasTicket() bool { return s.s.HasTicket() }

// Ref returns a second, independently freed reference to the session.
func (s *Session) Ref() *Session { return &Session{s: s.s.Ref()} }

// Free releases the session.
func (s *Session) Free() {
	if s != nil {
		s.s.Free()
	}
}
