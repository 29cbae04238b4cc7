package tls

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strings"
)

// CheckServerIdentity is Node's tls.checkServerIdentity(hostname, cert): it
// returns nil when cert is valid for hostname, else an *Error with code
// ERR_TLS_CERT_ALTNAME_INVALID, Node's message and reason, Host and Cert.
//
// The rules are Node's (RFC 6125 as Node reads it): one trailing dot is
// ignored; an IP address matches only "IP Address:" entries; a host name
// matches "DNS:" entries, and the subject CN only when there are none; a
// wildcard stands for all or part of the left-most label only, never across
// dots and never in "*.tld"; URI and email entries are ignored.
func CheckServerIdentity(hostname string, cert *Certificate) error {
	if cert == nil {
		cert = &Certificate{}
	}
	altNames := cert.SubjectAltName
	var dnsNames, ips []string
	if altNames != "" {
		var parts []string
		if strings.Contains(altNames, `"`) {
			var err error
			if parts, err = splitEscapedAltNames(altNames); err != nil {
				return err
			}
		} else {
			parts = strings.Split(altNames, ", ")
		}
		for _, name := range parts {
			switch {
			case strings.HasPrefix(name, "DNS:"):
				dnsNames = append(dnsNames, name[4:])
			case strings.HasPrefix(name, "IP Address:"):
				ips = append(ips, canonicalizeIP(name[11:]))
			}
		}
	}

	hostname = unfqdn(hostname)
	valid := false
	reason := "Unknown reason"
	cn := cert.Subject["CN"]
	switch {
	case isIP(hostname):
		want := canonicalizeIP(hostname)
		for _, ip := range ips {
			if ip == want {
				valid = true
			}
		}
		if !valid {
			reason = "IP: " + hostname + " is not in the cert's list: " + strings.Join(ips, ", ")
		}
	case len(dnsNames) > 0 || len(cn) > 0:
		hostParts := splitHost(hostname)
		if len(dnsNames) > 0 {
			for _, p := range dnsNames {
				if checkHostPattern(hostParts, p) {
					valid = true
					break
				}
			}
			if !valid {
				reason = "Host: " + hostname + ". is not in the cert's altnames: " + altNames
			}
		} else {
			for _, p := range cn {
				if checkHostPattern(hostParts, p) {
					valid = true
					break
				}
			}
			if !valid {
				// A JavaScript array in a template string joins with ",".
				reason = "Host: " + hostname + ". is not cert's CN: " + strings.Join(cn, ",")
			}
		}
	default:
		reason = "Cert does not contain a DNS name"
	}
	if valid {
		return nil
	}
	return &Error{
		Code:    "ERR_TLS_CERT_ALTNAME_INVALID",
		Message: "Hostname/IP does not match certificate's altnames: " + reason,
		Reason:  reason,
		Host:    hostname,
		Cert:    cert,
	}
}

func unfqdn(host string) string { return strings.TrimSuffix(host, ".") }

// lowerASCII lower-cases A-Z only, as Node does (locale-independent).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func splitHost(host string) []string { return strings.Split(lowerASCII(unfqdn(host)), ".") }

var badPatternChar = regexp.MustCompile(`[^\x{21}-\x{7F}]`)

func checkHostPattern(hostParts []string, pattern string) bool {
	if pattern == "" {
		return false
	}
	patternParts := splitHost(pattern)
	if len(hostParts) != len(patternParts) {
		return false
	}
	for _, p := range patternParts {
		if p == "" || badPatternChar.MatchString(p) {
			return false
		}
	}
	for i := len(hostParts) - 1; i > 0; i-- {
		if hostParts[i] != patternParts[i] {
			return false
		}
	}
	hostSub, patSub := hostParts[0], patternParts[0]
	pieces := strings.Split(patSub, "*")
	if len(pieces) == 1 || strings.Contains(patSub, "xn--") {
		return hostSub == patSub
	}
	if len(pieces) > 2 || len(patternParts) <= 2 {
		return false
	}
	prefix, suffix := pieces[0], pieces[1]
	if len(prefix)+len(suffix) > len(hostSub) {
		return false
	}
	return strings.HasPrefix(hostSub, prefix) && strings.HasSuffix(hostSub, suffix)
}

// isIP is Node's net.isIP: a dotted-quad IPv4 address or an IPv6 address.
func isIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && (a.Is4() || a.Is6())
}

// canonicalizeIP is inet_pton followed by inet_ntop: "0:0:0:0:0:0:0:1" is
// "::1", "0:0:0:0:0:ffff:c0a8:101" is "::ffff:192.168.1.1". Text that is no
// address comes back as it was.
func canonicalizeIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return s
	}
	return a.String()
}

// jsonStringPattern matches one JSON string literal at the start of the text.
var jsonStringPattern = regexp.MustCompile(`^"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`)

// splitEscapedAltNames splits a subjectaltname string whose values may be
// JSON string literals (Node's escaping of unsafe values).
func splitEscapedAltNames(altNames string) ([]string, error) {
	var result []string
	var cur strings.Builder
	off := 0
	for off != len(altNames) {
		nextSep := strings.IndexByte(altNames[off:], ',')
		nextQuote := strings.IndexByte(altNames[off:], '"')
		if nextQuote != -1 && (nextSep == -1 || nextQuote < nextSep) {
			cur.WriteString(altNames[off : off+nextQuote])
			m := jsonStringPattern.FindString(altNames[off+nextQuote:])
			if m == "" {
				return nil, newError("ERR_TLS_CERT_ALTNAME_FORMAT", "Invalid subject alternative name string")
			}
			var v string
			if err := json.Unmarshal([]byte(m), &v); err != nil {
				return nil, newError("ERR_TLS_CERT_ALTNAME_FORMAT", "Invalid subject alternative name string")
			}
			cur.WriteString(v)
			off += nextQuote + len(m)
		} else if nextSep != -1 {
			cur.WriteString(altNames[off : off+nextSep])
			result = append(result, cur.String())
			cur.Reset()
			off += nextSep + 2
			if off > len(altNames) {
				off = len(altNames)
			}
		} else {
			cur.WriteString(altNames[off:])
			off = len(altNames)
		}
	}
	result = append(result, cur.String())
	return result, nil
}
