package cbridge

/*
#include "hostcheck.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// X509_CHECK_FLAG_* bits for CheckHost and CheckIP.
const (
	CheckFlagAlwaysCheckSubject    = uint(C.X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT)
	CheckFlagNoWildcards           = uint(C.X509_CHECK_FLAG_NO_WILDCARDS)
	CheckFlagNoPartialWildcards    = uint(C.X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)
	CheckFlagMultiLabelWildcards   = uint(C.X509_CHECK_FLAG_MULTI_LABEL_WILDCARDS)
	CheckFlagSingleLabelSubdomains = uint(C.X509_CHECK_FLAG_SINGLE_LABEL_SUBDOMAINS)
	CheckFlagNeverCheckSubject     = uint(C.X509_CHECK_FLAG_NEVER_CHECK_SUBJECT)
)

// CheckHost reports whether the certificate matches the DNS name host
// (X509_check_host). An error means OpenSSL could not decide (for example a
// host with an embedded NUL).
func (x *X509) CheckHost(host string, flags uint) (bool, error) {
	if x == nil || x.p == nil {
		return false, errFreed("X509_check_host", "certificate")
	}
	if host == "" {
		return false, NewError("X509_check_host", "nodetls", "empty host name")
	}
	b := []byte(host)
	r, _, err := result("X509_check_host", C.nt_x509_check_host(x.p, cChars(b), C.size_t(len(b)), C.uint(flags)))
	runtime.KeepAlive(x)
	if err != nil {
		return false, err
	}
	if r == -2 {
		return false, NewError("X509_check_host", "nodetls", "malformed host name")
	}
	return r == 1, nil
}

// CheckIP reports whether the certificate has the IP address ip (IPv4 dotted
// or IPv6 text) among its subjectAltName entries (X509_check_ip_asc).
func (x *X509) CheckIP(ip string, flags uint) (bool, error) {
	if x == nil || x.p == nil {
		return false, errFreed("X509_check_ip_asc", "certificate")
	}
	cs := C.CString(ip)
	defer C.free(unsafe.Pointer(cs))
	r, _, err := result("X509_check_ip_asc", C.nt_x509_check_ip_asc(x.p, cs, C.uint(flags)))
	runtime.KeepAlive(x)
	if err != nil {
		return false, err
	}
	if r == -2 {
		return false, NewError("X509_check_ip_asc", "nodetls", "not an IP address: "+ip)
	}
	return r == 1, nil
}
