package openssl

import (
	"errors"

	"github.com/nodetls/nodetls/cbridge"
)

// ErrNoApplicationProtocol is what a ConnConfig.SelectALPN callback returns
// when none of the client's protocols is acceptable. The server then ends the
// handshake with a no_application_protocol alert (RFC 7301 §3.2) and its
// handshake error is OpenSSL's own ("no application protocol"); the client's
// is "tlsv1 alert no application protocol".
var ErrNoApplicationProtocol = errors.New("openssl: no application protocol")

// SelectALPNServerPreference picks a protocol the way SSL_select_next_proto
// does for a server: the server's first preference that the client also
// offered. ok is false when the lists have nothing in common (or either is
// empty).
func SelectALPNServerPreference(server, offered []string) (proto string, ok bool) {
	for _, p := range server {
		if p == "" {
			continue
		}
		for _, o := range offered {
			if o == p {
				return p, true
			}
		}
	}
	return "", false
}

// The PSK limits of the linked OpenSSL (3.0: PSK_MAX_IDENTITY_LEN and
// PSK_MAX_PSK_LEN). A longer identity or key fails the handshake with a
// *PSKLimitError.
const (
	PSKMaxIdentityLen = cbridge.PSKMaxIdentityLen
	PSKMaxKeyLen      = cbridge.PSKMaxPSKLen
)
