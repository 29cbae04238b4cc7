package openssl

import "fmt"

// ProtocolVersion is a TLS protocol version as OpenSSL numbers it
// (TLS1_2_VERSION = 0x0303). Zero means "not set": OpenSSL's own bound applies.
type ProtocolVersion int

// The protocol versions OpenSSL 3 speaks over TLS.
const (
	SSL3   ProtocolVersion = 0x0300
	TLS1   ProtocolVersion = 0x0301
	TLS1_1 ProtocolVersion = 0x0302
	TLS1_2 ProtocolVersion = 0x0303
	TLS1_3 ProtocolVersion = 0x0304
)

// String is OpenSSL's name of the version (SSL_get_version): "TLSv1.3", "TLSv1", "SSLv3".
func (v ProtocolVersion) String() string {
	switch v {
	case 0:
		return "any"
	case SSL3:
		return "SSLv3"
	case TLS1:
		return "TLSv1"
	case TLS1_1:
		return "TLSv1.1"
	case TLS1_2:
		return "TLSv1.2"
	case TLS1_3:
		return "TLSv1.3"
	}
	return fmt.Sprintf("unknown(0x%04x)", int(v))
}

// ParseProtocolVersion reads OpenSSL's name of a version ("TLSv1", "TLSv1.1",
// "TLSv1.2", "TLSv1.3", "SSLv3"), as SSL_CONF's MinProtocol accepts them.
func ParseProtocolVersion(s string) (ProtocolVersion, error) {
	for _, v := range []ProtocolVersion{SSL3, TLS1, TLS1_1, TLS1_2, TLS1_3} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("openssl: unknown protocol version %q", s)
}
