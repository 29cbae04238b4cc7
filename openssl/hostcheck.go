package openssl

import (
	"fmt"

	"github.com/nodetls/nodetls/cbridge"
)

// hostCheckFlags is the policy of CheckHost. X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS
// follows RFC 6125 §7.2, which recommends against partial-label wildcards
// ("ba*.example.com"): a "*" matches only a whole left-most label. OpenSSL
// itself never accepts "x*y" patterns, never lets "*" span labels, wants at
// least two labels after it ("*.com" matches nothing), and reads the subject
// CN only when the certificate has no DNS subjectAltName.
const hostCheckFlags = cbridge.CheckFlagNoPartialWildcards

// HostMismatchError reports a certificate that does not name the host or IP
// address it was checked against.
type HostMismatchError struct {
	Host string // the name or address that was checked
	IP   bool   // Host is an IP address
}

// Error describes the mismatch.
func (e *HostMismatchError) Error() string {
	if e.IP {
		return fmt.Sprintf("openssl: certificate is not valid for IP address %s", e.Host)
	}
	return fmt.Sprintf("openssl: certificate is not valid for host %s", e.Host)
}

// CheckHost checks cert against a DNS host name with OpenSSL's RFC 6125 rules
// (X509_check_host): DNS subjectAltNames, or the subject CN when there are
// none; wildcards only as a whole left-most label (no partial wildcards). It
// returns nil on a match, a *HostMismatchError otherwise, and an *Error when
// the name is unusable (empty, or with an embedded NUL). Host names are not
// IP addresses here: use CheckIP for those.
func CheckHost(cert *Certificate, host string) error {
	if cert == nil {
		return cbridge.NewError("X509_check_host", "nodetls", "no certificate")
	}
	ok, err := cert.x.CheckHost(host, hostCheckFlags)
	if err != nil {
		return err
	}
	if !ok {
		return &HostMismatchError{Host: host}
	}
	return nil
}

// CheckIP checks cert against an IPv4 or IPv6 address in text form
// (X509_check_ip_asc): only "IP Address" subjectAltName entries match, never
// the CN. It returns nil on a match, a *HostMismatchError otherwise, and an
// *Error for text that is not an IP address.
func CheckIP(cert *Certificate, ip string) error {
	if cert == nil {
		return cbridge.NewError("X509_check_ip_asc", "nodetls", "no certificate")
	}
	ok, err := cert.x.CheckIP(ip, 0)
	if err != nil {
		return err
	}
	if !ok {
		return &HostMismatchError{Host: ip, IP: true}
	}
	return nil
}
