package openssl

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nodeCertScript prints, for each PEM file, Node's legacy certificate object
// (what getPeerCertificate() returns) as JSON twice: with Buffers hex-encoded,
// and as JSON.stringify writes it.
const nodeCertScript = `
const { X509Certificate } = require('crypto'), fs = require('fs');
const hexBuffers = (k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data)) ? Buffer.from(v.data).toString('hex') : v;
console.log(JSON.stringify(process.argv.slice(1).map((f) => {
  const o = new X509Certificate(fs.readFileSync(f)).toLegacyObject();
  return { hex: JSON.stringify(o, hexBuffers), plain: JSON.stringify(o) };
})));`

// topLevelKeys lists the keys of a JSON object in order.
func topLevelKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// nodeView turns the Info fields into the values Node's object holds (as
// encoding/json decodes them, Buffers as hex), without the JSON writer, so
// the fields are checked on their own.
func nodeView(ci *CertificateInfo) map[string]any {
	m := map[string]any{}
	name := func(n Name) map[string]any {
		out := map[string]any{}
		for k, vs := range n.Map() {
			if len(vs) == 1 {
				out[k] = vs[0]
			} else {
				out[k] = strs(vs)
			}
		}
		return out
	}
	if ci.Subject != nil {
		m["subject"] = name(ci.Subject)
	}
	if ci.Issuer != nil {
		m["issuer"] = name(ci.Issuer)
	}
	if ci.HasSubjectAltName {
		m["subjectaltname"] = ci.SubjectAltName
	}
	if ci.InfoAccess != nil {
		ia := map[string]any{}
		for k, vs := range ci.InfoAccess {
			ia[k] = strs(vs)
		}
		m["infoAccess"] = ia
	}
	m["ca"] = ci.CA
	if ci.Modulus != "" {
		m["modulus"] = ci.Modulus
	}
	if ci.Bits > 0 {
		m["bits"] = float64(ci.Bits)
	}
	if ci.Exponent != "" {
		m["exponent"] = ci.Exponent
	}
	if ci.Pubkey != nil {
		m["pubkey"] = hex.EncodeToString(ci.Pubkey)
	}
	if ci.ASN1Curve != "" {
		m["asn1Curve"] = ci.ASN1Curve
	}
	if ci.NISTCurve != "" {
		m["nistCurve"] = ci.NISTCurve
	}
	m["valid_from"], m["valid_to"] = ci.ValidFrom, ci.ValidTo
	m["fingerprint"], m["fingerprint256"], m["fingerprint512"] = ci.Fingerprint, ci.Fingerprint256, ci.Fingerprint512
	if ci.ExtKeyUsage != nil {
		m["ext_key_usage"] = strs(ci.ExtKeyUsage)
	}
	if ci.SerialNumber != "" {
		m["serialNumber"] = ci.SerialNumber
	}
	m["raw"] = hex.EncodeToString(ci.Raw)
	return m
}

func strs(vs []string) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// TestCertificateInfoMatchesNode makes certificates of every key type and with
// every field Node shows (SANs of all kinds, AIA, EKU, repeated and UTF-8 name
// attributes, values that need escaping) and compares Info, field for field
// and as JSON, with Node's X509Certificate.toLegacyObject().
func TestCertificateInfoMatchesNode(t *testing.T) {
	rsa, ec, ed, ed448 := mustKey(t, "rsa"), mustKey(t, "ec"), mustKey(t, "ed25519"), mustKey(t, "ed448")
	gen := func(f func() (*PrivateKey, error)) *PrivateKey {
		k, err := f()
		require.NoError(t, err)
		t.Cleanup(k.Free)
		return k
	}
	p384 := gen(func() (*PrivateKey, error) { return GenerateECKey("P-384") })
	p521 := gen(func() (*PrivateKey, error) { return GenerateECKey("secp521r1") })
	k256 := gen(func() (*PrivateKey, error) { return GenerateECKey("secp256k1") }) // no NIST name

	full := func(cn string) *CertificateTemplate {
		return &CertificateTemplate{
			Subject: Name{{"C", "US"}, {"ST", "CA"}, {"L", "SF"}, {"O", "nodetls"},
				{"OU", "Information Technology"}, {"OU", "Engineering"}, {"OU", "Marketing"}, {"CN", cn}},
			DNSNames:              []string{"localhost", "*.example.com"},
			IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("2001:db8::ff00:42:8329"), net.ParseIP("::ffff:192.168.1.1")},
			EmailAddresses:        []string{"a@b.c"},
			URIs:                  []string{"http://x.y/"},
			ExtKeyUsage:           []string{"serverAuth", "clientAuth"},
			OCSPServer:            []string{"http://ocsp.example/", "http://ocsp2.example/"},
			IssuingCertificateURL: []string{"http://ca.example/ca.der"},
		}
	}
	caTmpl := full("Ádám Lippai")
	caTmpl.IsCA = true
	ca := mustCert(t, caTmpl, rsa, nil, nil)

	escape := &CertificateTemplate{
		Subject: Name{{"CN", "line1\nline2 \u2028 \"q\" \\ 😀"}, {"emailAddress", "x@y.z"}, {"O", "a, b"},
			{"1.2.3.4", "unknown type"}, {"serialNumber", "123"}, {"O", "c"}},
		SerialNumber:          big.NewInt(-5),
		DNSNames:              []string{"a,b", `q"x`, "é", "tab\there", `back\slash`, "it's", "del\x7f", "ctl\x01"},
		EmailAddresses:        []string{"x,y@z"},
		URIs:                  []string{"http://x.y/?a=1,2", "http://'q'/"},
		OCSPServer:            []string{"http://o,1/", `http://o"2/`, "http://é/"},
		IssuingCertificateURL: []string{"http://plain/"},
		ExtKeyUsage:           []string{"1.2.3.4.5", "codeSigning"},
	}
	highSerial, _ := new(big.Int).SetString("80000000000000000000000000000001", 16)
	minimal := &CertificateTemplate{
		SerialNumber: highSerial,
		NotBefore:    time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2024, 3, 9, 9, 5, 7, 0, time.UTC),
		NoKeyUsage:   true,
		NoKeyIDs:     true,
	}
	certs := map[string]*Certificate{
		"RSA CA":            ca,
		"ECDSA P-256 leaf":  mustCert(t, full("ec.localhost"), ec, ca, rsa),
		"Ed25519 leaf":      mustCert(t, full("ed.localhost"), ed, ca, rsa),
		"Ed448 self-signed": mustCert(t, full("ed448"), ed448, nil, nil),
		"P-384 leaf":        mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "p384"}}}, p384, ca, rsa),
		"P-521 leaf":        mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "p521"}}}, p521, ca, rsa),
		"secp256k1 leaf":    mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "k256"}}, IsCA: true, NoKeyUsage: true}, k256, ca, rsa),
		"escaping":          mustCert(t, escape, ec, ca, rsa),
		"minimal":           mustCert(t, minimal, ec, nil, nil),
		"CA without keyCertSign": mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "weak CA"}}, IsCA: true,
			KeyUsage: []string{"digitalSignature"}}, rsa, nil, nil),
	}

	// EC keys whose point is compressed, on a named curve and with explicit
	// curve parameters (made by the openssl command: nodetls writes the
	// uncompressed form).
	cliDir := t.TempDir()
	for name, enc := range map[string]string{"compressed P-256 point": "named_curve", "explicit P-256 parameters": "explicit"} {
		cli(t, cliDir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem")
		cli(t, cliDir, "ec", "-in", "k.pem", "-conv_form", "compressed", "-param_enc", enc, "-out", "kc.pem")
		cli(t, cliDir, "req", "-x509", "-key", "kc.pem", "-subj", "/CN="+enc, "-days", "1", "-out", "c.pem")
		pem, err := os.ReadFile(filepath.Join(cliDir, "c.pem"))
		require.NoError(t, err)
		parsed, err := ParseCertificatesPEM(pem)
		require.NoError(t, err)
		t.Cleanup(func() { freeCertificates(parsed) })
		certs[name] = parsed[0]
	}

	dir := t.TempDir()
	var names, files []string
	for name, c := range certs {
		names = append(names, name)
		files = append(files, writeFile(t, dir, fmt.Sprintf("c%d.pem", len(files)), mustPEM(t, c)))
	}
	var node []struct{ Hex, Plain string }
	nodeJSON(t, &node, nodeCertScript, files...)
	require.Len(t, node, len(names))

	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			ci, err := certs[name].Info()
			require.NoError(t, err)
			var want map[string]any
			require.NoError(t, json.Unmarshal([]byte(node[i].Hex), &want))
			got := nodeView(ci)
			for k, v := range want {
				assert.Equal(t, v, got[k], "field %s", k)
			}
			for k := range got {
				_, ok := want[k]
				assert.True(t, ok, "field %s is not in Node's object", k)
			}
			ours := ci.NodeJSON(BufferHex)
			assert.Equal(t, topLevelKeys(t, []byte(node[i].Hex)), topLevelKeys(t, ours), "key order")
			assert.Equal(t, node[i].Hex, string(ours), "JSON with hex Buffers")
			assert.Equal(t, node[i].Plain, string(ci.NodeJSON(BufferNode)), "JSON.stringify")

			// IdentityInfo: the same subject and subjectaltname.
			id, err := certs[name].IdentityInfo()
			require.NoError(t, err)
			assert.Equal(t, ci.Subject, id.Subject)
			assert.Equal(t, ci.SubjectAltName, id.SubjectAltName)
			assert.Equal(t, ci.HasSubjectAltName, id.HasSubjectAltName)
			assert.Equal(t, ci.SubjectAltNameInvalid, id.SubjectAltNameInvalid)
		})
	}
}

// TestAltNameFormat checks the general name printer on inputs a certificate
// cannot easily carry (othername, DirName, registered ID, odd IP lengths).
func TestAltNameFormat(t *testing.T) {
	gn := func(typ int, data ...byte) []byte { return append([]byte{byte(typ)}, data...) }
	gs := func(typ int, data string) []byte { return gn(typ, []byte(data)...) }
	other := func(kind int, prefix, val string) []byte {
		return append(append([]byte{byte(kind)}, append([]byte(prefix), 0)...), val...)
	}
	cases := []struct {
		in   []byte
		want string
	}{
		{gs(2 /* GEN_DNS */, "a.b"), "DNS:a.b"},
		{gn(7 /* GEN_IPADD */, 1, 2, 3), "IP Address:<invalid length=3>"},
		{gs(8 /* GEN_RID */, "1.2.3"), "Registered ID:1.2.3"},
		{gs(4 /* GEN_DIRNAME */, "CN=x,O=y"), `DirName:"CN=x\u002cO=y"`},
		{gs(4, "CN=é"), "DirName:CN=é"},
		{gn(0 /* GEN_OTHERNAME */, 0), "othername:<unsupported>"},
		{gn(0, other(1, "XmppAddr", "me@x")...), "othername:XmppAddr:me@x"},
		{gn(0, other(1, "UPN", "a,b")...), `othername:"UPN:a\u002cb"`},
		{gn(0, other(2, "SRVName", "é")...), `othername:"SRVName:\u00c3\u00a9"`},
		{gn(3 /* GEN_X400 */), "X400Name:<unsupported>"},
		{gn(5 /* GEN_EDIPARTY */), "EdiPartyName:<unsupported>"},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, formatGeneralName(tc.in))
	}
	keys := parseInfoAccess("OCSP - URI:http://a/\nCA Issuers - DirName:\"CN=x\\u002cO=y\"\nOCSP - URI:http://b/", map[string][]string{})
	assert.Equal(t, []string{"OCSP - URI", "CA Issuers - DirName"}, keys)
}

// TestInfoJSONEscaping compares the JSON string writer with JSON.stringify on
// the characters that matter.
func TestInfoJSONEscaping(t *testing.T) {
	in := []string{"plain", "q\"b\\s", "\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f", "\u2028\u2029<>&", "é😀", "bad\xffutf8",
		// Ill-formed UTF-8: V8 gives one U+FFFD per maximal subpart.
		"\xe0\xbd", "\xe0\x80", "\xed\xa0\x80", "\xf0\x9f\x98x", "\xf4\x90\x80\x80", "\xc0\xaf", "\xc2", "a\xf1\x80\x80\xe1\x80\xc2b", "\xf8\x88\x80\x80\x80"}
	var node []string
	nodeJSON(t, &node, `
const a = process.argv.slice(1).map((h) => Buffer.from(h, 'hex').toString('utf8'));
console.log(JSON.stringify(a.map((s) => JSON.stringify(s))));`, func() []string {
		var hs []string
		for _, s := range in {
			hs = append(hs, hex.EncodeToString([]byte(s)))
		}
		return hs
	}()...)
	require.Len(t, node, len(in))
	for i, s := range in {
		assert.Equal(t, node[i], string(appendJSString(nil, s)), "%q", s)
	}
}
