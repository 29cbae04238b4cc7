package tls_test

import (
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/nodetls/nodetls/openssl"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// identityCheckJS defines identityLine(c): tls.checkServerIdentity on one
// case ({host, cert} with a cert object {subject, subjectaltname}, or {host,
// pem} with a PEM certificate read with X509Certificate.toLegacyObject, the
// object getPeerCertificate gives), as one JSON-able line: ok, or the error's
// code, message, reason and host, whether returned or thrown. The parity
// test and FuzzCheckServerIdentity share it.
const identityCheckJS = `
const tls = require('tls');
const { X509Certificate } = require('crypto');
function identityLine(c) {
  let cert = c.cert;
  const line = {};
  if (c.pem) {
    cert = new X509Certificate(c.pem).toLegacyObject();
    line.subject = cert.subject;
    line.subjectaltname = cert.subjectaltname ?? null;
  }
  try {
    const err = tls.checkServerIdentity(c.host, cert);
    if (err) {
      line.code = err.code; line.message = err.message;
      if (err.reason !== undefined) line.reason = err.reason;
      if (err.host !== undefined) line.host = err.host;
    } else {
      line.ok = true;
    }
  } catch (e) {
    line.code = e.code; line.message = e.message;
  }
  return line;
}
`

// identityScript runs identityLine over a JSON array of cases on stdin and
// prints one JSON line per case.
const identityScript = identityCheckJS + `
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
for (const c of cases) process.stdout.write(JSON.stringify(identityLine(c)) + '\n');
`

type identityCase struct {
	Name string         `json:"-"`
	Host string         `json:"host"`
	Cert map[string]any `json:"cert,omitempty"`
	PEM  string         `json:"pem,omitempty"`
}

// test-tls-check-server-identity (and test-tls-canonical-ip): Go's
// tls.CheckServerIdentity and node's tls.checkServerIdentity on the same
// hosts and certificate objects (written out, or read from real
// certificates by each side's own parser) give the same result, code,
// message, reason and host.
func TestParityCheckServerIdentity(t *testing.T) {
	cases := identityObjectCases()

	// Real certificates, parsed by each side.
	self := func(cn []string, dns []string, ips []string, emails, uris []string) string {
		key, err := openssl.GenerateECKey("P-256")
		require.NoError(t, err)
		defer key.Free()
		tmpl := &openssl.CertificateTemplate{DNSNames: dns, EmailAddresses: emails, URIs: uris}
		for _, c := range cn {
			tmpl.Subject = append(tmpl.Subject, openssl.NameEntry{Type: "CN", Value: c})
		}
		for _, ip := range ips {
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
		}
		cert, err := openssl.CreateCertificate(tmpl, key, nil, nil)
		require.NoError(t, err)
		defer cert.Free()
		p, err := cert.PEM()
		require.NoError(t, err)
		return string(p)
	}
	local := self([]string{"localhost"}, []string{"localhost", "*.wild.example"}, []string{"127.0.0.1", "::1"}, nil, nil)
	comma := self([]string{"x"}, []string{"a,b.example", "good.example"}, nil, nil, nil)
	cnOnly := self([]string{"cn.example", "second.example"}, nil, nil, nil, nil)
	uriMail := self([]string{"uri.example"}, nil, nil, []string{"a@uri.example"}, []string{"https://uri.example/"})
	// test-tls-0-dns-altname: a NUL inside a DNS name.
	nul := self([]string{"a.example.com"}, []string{"good.example.org\x00.evil.example.com", "just-another.example.com"},
		[]string{"8.8.8.8", "8.8.4.4"}, nil, nil)
	for _, c := range []struct{ name, host, pem string }{
		{"real cert: DNS name", "localhost", local},
		{"real cert: wildcard DNS name", "x.wild.example", local},
		{"real cert: wildcard does not match its parent", "wild.example", local},
		{"real cert: IPv4", "127.0.0.1", local},
		{"real cert: IPv6", "::1", local},
		{"real cert: IPv6 full form", "0:0:0:0:0:0:0:1", local},
		{"real cert: mismatch echoes the SAN", "evil.com", local},
		{"real cert: IP mismatch lists the IPs", "10.0.0.1", local},
		{"real cert: escaped comma", "a,b.example", comma},
		{"real cert: next to an escaped name", "good.example", comma},
		{"real cert: escaped name is not split", "b.example", comma},
		{"real cert: CN only", "cn.example", cnOnly},
		{"real cert: second CN", "second.example", cnOnly},
		{"real cert: CN mismatch", "other.example", cnOnly},
		{"real cert: URI and email SANs leave the CN", "uri.example", uriMail},
		{"0-dns-altname: a NUL in a DNS name", "a.example.com", nul},
		{"0-dns-altname: the part after the NUL", "evil.example.com", nul},
		{"0-dns-altname: the part before the NUL", "good.example.org", nul},
		{"0-dns-altname: the next name", "just-another.example.com", nul},
	} {
		cases = append(cases, identityCase{Name: c.name, Host: c.host, PEM: c.pem})
	}
	require.GreaterOrEqual(t, len(cases), 25)

	peers.Require(t, "node")
	script := filepath.Join(t.TempDir(), "identity.js")
	require.NoError(t, os.WriteFile(script, []byte(identityScript), 0o600))
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	p := peers.Start(t, "node", script)
	_, err = p.Stdin.Write(in)
	require.NoError(t, err)
	p.CloseStdin()
	p.Wait(t, 30*time.Second)
	nodeLines := parity.ParseLines(t, p.Stdout())
	require.Len(t, nodeLines, len(cases), "stderr: %s", p.Stderr())

	for i, c := range cases {
		t.Run("check-server-identity/"+c.Name, func(t *testing.T) {
			var cert *tls.Certificate
			got := parity.Line{}
			if c.PEM != "" {
				certs, err := openssl.ParseCertificatesPEM([]byte(c.PEM))
				require.NoError(t, err)
				ci, err := certs[0].Info()
				certs[0].Free()
				require.NoError(t, err)
				cert = &tls.Certificate{Subject: tls.Name(ci.Subject.Map()), SubjectAltName: ci.SubjectAltName}
				got["subject"] = jsonName(cert.Subject)
				if ci.SubjectAltName != "" {
					got["subjectaltname"] = ci.SubjectAltName
				} else {
					got["subjectaltname"] = nil
				}
			} else {
				cert = certFromObject(c.Cert)
			}
			for k, v := range goIdentityLine(t, c.Host, cert) {
				got[k] = v
			}
			gl := []parity.Line{roundTripLine(t, got)}
			assert.Empty(t, parity.Diff(nodeLines[i:i+1], gl), "host %q", c.Host)
			t.Logf("node: %v", nodeLines[i])
		})
	}
}

// jsonName is a subject as Node's object: one value as a string, several as
// an array.
func jsonName(n tls.Name) map[string]any {
	out := map[string]any{}
	for k, v := range n {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = v
		}
	}
	return out
}

// identitySubject is a subject object with the CNs given: none, one (a
// string, as Node gives one value) or several (an array).
func identitySubject(cn ...string) map[string]any {
	switch len(cn) {
	case 0:
		return map[string]any{}
	case 1:
		return map[string]any{"CN": cn[0]}
	}
	return map[string]any{"CN": cn}
}

// identityObject is a certificate object as checkServerIdentity reads it:
// subject, and subjectaltname unless san is empty.
func identityObject(san string, subject map[string]any) map[string]any {
	o := map[string]any{"subject": subject}
	if san != "" {
		o["subjectaltname"] = san
	}
	return o
}

// identityObjectCases are the written-out certificate objects of
// test-tls-check-server-identity and test-tls-canonical-ip (and some more);
// FuzzCheckServerIdentity seeds its corpus with them.
func identityObjectCases() []identityCase {
	obj, subj := identityObject, identitySubject
	return []identityCase{
		// Basic CN handling, and the CN only without DNS names.
		{Name: "CN match", Host: "a.com", Cert: obj("", subj("a.com"))},
		{Name: "CN upper case", Host: "a.com", Cert: obj("", subj("A.COM"))},
		{Name: "CN mismatch", Host: "a.com", Cert: obj("", subj("b.com"))},
		{Name: "CN trailing dot", Host: "a.com", Cert: obj("", subj("a.com."))},
		{Name: "CN wildcard", Host: "b.a.com", Cert: obj("", subj("*.a.com"))},
		{Name: "DNS names hide the CN", Host: "b.a.com", Cert: obj("DNS:omg.com", subj("*.a.com"))},
		{Name: "several CNs", Host: "foo.com", Cert: obj("", subj("foo.com", "bar.com"))},
		{Name: "several CNs, none matches", Host: "baz.com", Cert: obj("", subj("foo.com", "bar.com"))},
		{Name: "CN is used when SANs have no DNS name (IP)", Host: "a.com", Cert: obj("IP Address:1.2.3.4", subj("a.com"))},
		{Name: "CN is used when SANs have no DNS name (email)", Host: "a.com", Cert: obj("email:a@b.c", subj("a.com"))},
		{Name: "DNS name in SAN hides a matching CN", Host: "localhost", Cert: obj("DNS:a.com", subj("localhost"))},
		// Wildcards.
		{Name: "lone * never matches", Host: "a.com", Cert: obj("DNS:*", subj("b.com"))},
		{Name: "*.tld never matches", Host: "a.com", Cert: obj("DNS:*.com", subj("b.com"))},
		{Name: "*.co.uk matches a.co.uk", Host: "a.co.uk", Cert: obj("DNS:*.co.uk", subj("b.com"))},
		{Name: "*.a.com does not match a.com", Host: "a.com", Cert: obj("DNS:*.a.com", subj("a.com"))},
		{Name: "DNS match", Host: "a.com", Cert: obj("DNS:a.com", subj("b.com"))},
		{Name: "DNS upper case", Host: "a.com", Cert: obj("DNS:A.COM", subj("b.com"))},
		{Name: "upper-case host", Host: "A.COM", Cert: obj("DNS:a.com", subj())},
		{Name: "*.a.com matches b.a.com", Host: "b.a.com", Cert: obj("DNS:*.a.com", subj())},
		{Name: "* does not cross dots", Host: "c.b.a.com", Cert: obj("DNS:*.a.com", subj())},
		{Name: "partial wildcard *b", Host: "b.a.com", Cert: obj("DNS:*b.a.com", subj())},
		{Name: "partial wildcard *b, longer label", Host: "a-cb.a.com", Cert: obj("DNS:*b.a.com", subj())},
		{Name: "partial wildcard does not cross dots", Host: "a.b.a.com", Cert: obj("DNS:*b.a.com", subj())},
		{Name: "wildcard in the middle b*z", Host: "baz.foo.com", Cert: obj("DNS:b*z.foo.com", subj())},
		{Name: "two wildcards", Host: "a.b.com", Cert: obj("DNS:*.*.com", subj())},
		{Name: "wildcard not in the first label", Host: "a.b.com", Cert: obj("DNS:a.*.com", subj())},
		{Name: "several DNS names", Host: "a.b.a.com", Cert: obj("DNS:*b.a.com, DNS:a.b.a.com", subj())},
		// Punycode: no wildcard inside an xn-- label.
		{Name: "xn-- label with a wildcard", Host: "xn--bcher-kva.example", Cert: obj("DNS:xn--*.example", subj())},
		{Name: "xn-- exact", Host: "xn--bcher-kva.example", Cert: obj("DNS:xn--bcher-kva.example", subj())},
		{Name: "wildcard above an xn-- label", Host: "a.xn--bcher-kva.example", Cert: obj("DNS:*.xn--bcher-kva.example", subj())},
		{Name: "non-ASCII pattern never matches", Host: "bücher.example", Cert: obj("DNS:bücher.example", subj())},
		// Trailing dots.
		{Name: "host with a trailing dot", Host: "a.com.", Cert: obj("DNS:a.com", subj())},
		{Name: "pattern with a trailing dot", Host: "a.com", Cert: obj("DNS:a.com.", subj())},
		{Name: "host with two trailing dots", Host: "a.com..", Cert: obj("DNS:a.com", subj())},
		{Name: "wildcard and trailing dot", Host: "b.a.com.", Cert: obj("DNS:*.a.com", subj())},
		// URIs are ignored (CVE-2021-44531).
		{Name: "URI is not a DNS name", Host: "a.b.a.com", Cert: obj("URI:http://a.b.a.com/", subj())},
		{Name: "URI wildcard is not a DNS name", Host: "a.b.a.com", Cert: obj("URI:http://*.b.a.com/", subj())},
		// IP addresses.
		{Name: "host name against an IP SAN", Host: "a.b.a.com", Cert: obj("IP Address:127.0.0.1", subj())},
		{Name: "IPv4 match", Host: "127.0.0.1", Cert: obj("IP Address:127.0.0.1", subj())},
		{Name: "IPv4 mismatch", Host: "127.0.0.2", Cert: obj("IP Address:127.0.0.1", subj())},
		{Name: "IPv4 against DNS names only", Host: "127.0.0.1", Cert: obj("DNS:a.com", subj())},
		{Name: "IPv4 in the CN is never used", Host: "127.0.0.1", Cert: obj("", subj("127.0.0.1"))},
		{Name: "IPv6 canonical form matches the full form", Host: "::1", Cert: obj("IP Address:0:0:0:0:0:0:0:1", subj())},
		{Name: "IPv6 full form host", Host: "0:0:0:0:0:0:0:1", Cert: obj("IP Address:0:0:0:0:0:0:0:1", subj())},
		{Name: "IPv6 upper-case hex", Host: "fe80::abcd", Cert: obj("IP Address:FE80:0:0:0:0:0:0:ABCD", subj())},
		{Name: "IPv4-mapped IPv6", Host: "::ffff:192.168.1.1", Cert: obj("IP Address:0:0:0:0:0:FFFF:C0A8:101", subj())},
		{Name: "IPv6 mismatch lists canonical addresses", Host: "::2", Cert: obj("IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1", subj())},
		{Name: "IPv4 host against an IPv4-mapped SAN", Host: "192.168.1.1", Cert: obj("IP Address:0:0:0:0:0:FFFF:C0A8:101", subj())},
		// Escaped SAN values (JSON strings after the type).
		{Name: "escaped comma in a DNS name", Host: "a,b.com", Cert: obj(`DNS:"a\u002cb.com", DNS:c.com`, subj())},
		{Name: "escaped name does not split into two", Host: "b.com", Cert: obj(`DNS:"a.com\u002c DNS:b.com"`, subj())},
		{Name: "malformed escaped SAN", Host: "a.com", Cert: obj(`DNS:"a.com`, subj())},
		{Name: "no names at all", Host: "a.com", Cert: obj("", subj())},
		{Name: "empty host", Host: "", Cert: obj("DNS:a.com", subj())},
	}
}

// certFromObject is the tls.Certificate of a certificate object written as
// identityObject writes it.
func certFromObject(o map[string]any) *tls.Certificate {
	cert := &tls.Certificate{Subject: tls.Name{}}
	subject, _ := o["subject"].(map[string]any)
	for k, v := range subject {
		switch x := v.(type) {
		case string:
			cert.Subject[k] = []string{x}
		case []string:
			cert.Subject[k] = x
		}
	}
	cert.SubjectAltName, _ = o["subjectaltname"].(string)
	return cert
}

// goIdentityLine is tls.CheckServerIdentity(host, cert) as the line
// identityLine prints for it in node.
func goIdentityLine(t testing.TB, host string, cert *tls.Certificate) parity.Line {
	t.Helper()
	got := parity.Line{}
	err := tls.CheckServerIdentity(host, cert)
	if err == nil {
		got["ok"] = true
		return got
	}
	var te *tls.Error
	require.True(t, errors.As(err, &te), "%T %v", err, err)
	got["code"], got["message"] = te.Code, te.Message
	if te.Reason != "" {
		got["reason"] = te.Reason
	}
	if te.Code == "ERR_TLS_CERT_ALTNAME_INVALID" {
		got["host"] = te.Host
		assert.Same(t, cert, te.Cert, "err.cert is the certificate checked")
	}
	return got
}

// roundTripLine passes a Go line through JSON so that it compares with
// node's lines alike.
func roundTripLine(t testing.TB, l parity.Line) parity.Line {
	t.Helper()
	b, err := json.Marshal(l)
	require.NoError(t, err)
	var out parity.Line
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}
