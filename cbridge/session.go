package cbridge

/*
#include "sslinfo.h"
int nt_session_ticket(SSL_SESSION *s, unsigned char *out, int cap);
unsigned long nt_session_ticket_lifetime_hint(SSL_SESSION *s);
*/
import "C"

// Time is when the session was made, in Unix seconds (SSL_SESSION_get_time);
// 0 for a freed session.
func (s *Session) Time() int64 {
	if s == nil || s.p == nil {
		return 0
	}
	return int64(C.nt_session_get_time(s.p))
}

// Ticket returns a copy of the session's ticket (SSL_SESSION_get0_ticket), nil if none.
func (s *Session) Ticket() []byte {
	if s == nil || s.p == nil {
		return nil
	}
	n := int(C.nt_session_ticket(s.p, nil, 0))
	if n <= 0 {
		return nil
	}
	out := make([]byte, n)
	if int(C.nt_session_ticket(s.p, cBytes(out), C.int(n))) != n {
		return nil
	}
	return out
}

// TicketLifetimeHint is the lifetime the server gave the ticket, in seconds
// (SSL_SESSION_get_ticket_lifetime_hint); 0 when none.
func (s *Session) TicketLifetimeHint() int64 {
	if s == nil || s.p == nil {
		return 0
	}
	return int64(C.nt_session_ticket_lifetime_hint(s.p))
}
