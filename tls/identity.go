package tls

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
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
	// Node tests subject.CN for truth: one empty CN (the string "") is no
	// CN, several (an array) are one even if all are empty.
	hasCN := len(cn) > 1 || len(cn) == 1 && cn[0] != ""
	switch {
	case isIP(hostname):
		want := canonicalizeIP(hostname)
		// "" is Node's undefined: text that is no address (in the cert or,
		// never in practice, the host), which equals only itself.
		for _, ip := range ips {
			if ip == want {
				valid = true
			}
		}
		if !valid {
			reason = "IP: " + hostname + " is not in the cert's list: " + strings.Join(ips, ", ")
		}
	case len(dnsNames) > 0 || hasCN:
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

// isIP is Node's net.isIP: an IPv4 address in dotted-quad form without
// leading zeros, or an IPv6 address (which may end in an IPv4 address in that
// form) with an optional, non-empty zone of the characters 0-9 a-z A-Z - . :.
func isIP(s string) bool {
	addr, zone, hasZone := strings.Cut(s, "%")
	if hasZone && (zone == "" || strings.TrimLeft(zone, zoneChars) != "") {
		return false
	}
	a, err := netip.ParseAddr(addr)
	return err == nil && (a.Is6() || a.Is4() && !hasZone)
}

const zoneChars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.:"

// canonicalizeIP is Node's canonicalizeIP: the text read as an address
// (IPv4, else IPv6) and written back as libuv writes it, so
// "0:0:0:0:0:0:0:1" is "::1" and "0:0:0:0:0:ffff:c0a8:101" is
// "::ffff:192.168.1.1". As in Node, the text is a C string, which a NUL
// ends, and an IPv6 zone ("%eth0", anything after the first '%') is dropped
// when at most 45 characters precede it. Text that is no address gives "",
// Node's undefined.
func canonicalizeIP(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return a.String()
	}
	if i := strings.IndexByte(s, '%'); i >= 0 {
		if i > 45 {
			return ""
		}
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return ""
	}
	return formatIPv6(a.As16())
}

// formatIPv6 writes an IPv6 address as libuv's inet_ntop does: groups in
// lower-case hex without leading zeros; the longest run of two or more zero
// groups (the first of equal runs) as "::"; and, when the address is six
// zero groups or five and ffff followed by four more bytes, those bytes in
// dotted form ("::1.2.3.4", "::ffff:1.2.3.4"; "::" and "::2" stay hex).
func formatIPv6(b [16]byte) string {
	var g [8]uint16
	for i := range g {
		g[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	// The longest run of zero groups.
	runAt, runLen := -1, 0
	for i := 0; i < len(g); {
		if g[i] != 0 {
			i++
			continue
		}
		j := i
		for j < len(g) && g[j] == 0 {
			j++
		}
		if j-i > runLen {
			runAt, runLen = i, j-i
		}
		i = j
	}
	if runLen < 2 {
		runAt, runLen = -1, 0
	}
	dotted := func() string { return netip.AddrFrom4([4]byte(b[12:])).String() }
	switch {
	case runAt == 0 && runLen == 6:
		return "::" + dotted()
	case runAt == 0 && runLen == 5 && g[5] == 0xffff:
		return "::ffff:" + dotted()
	}
	var out strings.Builder
	for i := 0; i < len(g); i++ {
		if i == runAt {
			out.WriteString("::")
			i += runLen - 1
			continue
		}
		if i > 0 && i != runAt+runLen {
			out.WriteByte(':')
		}
		out.WriteString(strconv.FormatUint(uint64(g[i]), 16))
	}
	return out.String()
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
			// Node steps over the comma and one UTF-16 code unit, meant to
			// be the space of ", " but whatever it is: here one character,
			// and for one outside the BMP (two code units) the half that
			// Node leaves, a lone surrogate, which Go strings write U+FFFD.
			off += nextSep + 1
			if off < len(altNames) {
				r, size := utf8.DecodeRuneInString(altNames[off:])
				if r > 0xFFFF {
					cur.WriteRune(utf8.RuneError)
				}
				off += size
			}
		} else {
			cur.WriteString(altNames[off:])
			off = len(altNames)
		}
	}
	result = append(result, cur.String())
	return result, nil
}
