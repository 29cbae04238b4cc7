package openssl

import (
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// certText is `openssl x509 -noout -text` split into the parts that must agree
// between two certificates with the same contents: the lines outside the
// extensions (validity and signature value left out, as they differ from run
// to run) and each extension's block, by its header line.
type certText struct {
	body       []string
	extensions map[string]string
}

func parseCertText(t *testing.T, text string) certText {
	t.Helper()
	ct := certText{extensions: map[string]string{}}
	lines := strings.Split(text, "\n")
	inExt, inSig := false, false
	var cur string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "        X509v3 extensions:"):
			inExt = true
			continue
		case strings.HasPrefix(l, "    Signature Algorithm:"):
			inExt = false
		case strings.HasPrefix(l, "    Signature Value:"):
			inSig = true
			continue
		case strings.HasPrefix(l, "            Not Before:"), strings.HasPrefix(l, "            Not After :"):
			continue
		}
		if inSig {
			continue
		}
		if inExt {
			if strings.HasPrefix(l, "            ") && !strings.HasPrefix(l, "                ") {
				cur = strings.TrimSpace(l)
				ct.extensions[cur] = ""
			} else {
				ct.extensions[cur] += strings.TrimSpace(l) + "\n"
			}
			continue
		}
		ct.body = append(ct.body, l)
	}
	require.NotEmpty(t, ct.body)
	return ct
}

// cliCert makes a certificate with the openssl CLI from the same key, subject,
// serial and extensions, for comparison.
func cliCert(t *testing.T, dir string, key []byte, subj, serial string, ext []string, caCert, caKey []byte, digest string) string {
	t.Helper()
	keyFile := writeFile(t, dir, "cli-key.pem", key)
	out := "cli-cert.pem"
	md := []string{}
	if digest != "" {
		md = []string{"-" + digest}
	}
	if caCert == nil {
		args := []string{"req", "-x509", "-new", "-key", keyFile, "-subj", subj, "-set_serial", serial, "-days", "2", "-out", out}
		for _, e := range ext {
			args = append(args, "-addext", e)
		}
		_, stderr, code := runTool(t, dir, "openssl", append(args, md...)...)
		require.Equal(t, 0, code, stderr)
	} else {
		_, stderr, code := runTool(t, dir, "openssl", "req", "-new", "-key", keyFile, "-subj", subj, "-out", "cli.csr")
		require.Equal(t, 0, code, stderr)
		extFile := writeFile(t, dir, "ext.cnf", []byte(strings.Join(ext, "\n")+"\n"))
		args := []string{"x509", "-req", "-in", "cli.csr", "-CA", writeFile(t, dir, "cli-ca.pem", caCert),
			"-CAkey", writeFile(t, dir, "cli-ca-key.pem", caKey), "-set_serial", serial, "-days", "2", "-extfile", extFile, "-out", out}
		_, stderr, code = runTool(t, dir, "openssl", append(args, md...)...)
		require.Equal(t, 0, code, stderr)
	}
	text, stderr, code := runTool(t, dir, "openssl", "x509", "-in", out, "-noout", "-text")
	require.Equal(t, 0, code, stderr)
	return text
}

func certTextOf(t *testing.T, dir string, c *Certificate) string {
	t.Helper()
	f := writeFile(t, dir, "ours.pem", mustPEM(t, c))
	text, stderr, code := runTool(t, dir, "openssl", "x509", "-in", f, "-noout", "-text")
	require.Equal(t, 0, code, stderr)
	return text
}

// TestCreateCertificateMatchesCLI makes the same CA and leaf with our
// CreateCertificate and with `openssl req -x509` / `openssl x509 -req`, and
// checks that `openssl x509 -text` reads the same certificate from both
// (serial, names, key, every extension, signature algorithm).
func TestCreateCertificateMatchesCLI(t *testing.T) {
	for _, kind := range []string{"rsa", "ec", "ed25519", "ed448"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			caKey, leafKey := mustKey(t, kind), mustKey(t, kind)
			caKeyPEM, err := caKey.MarshalPKCS8PEM()
			require.NoError(t, err)
			leafKeyPEM, err := leafKey.MarshalPKCS8PEM()
			require.NoError(t, err)

			one := 1
			caTmpl := &CertificateTemplate{
				Subject:      Name{{"C", "US"}, {"O", "nodetls"}, {"OU", "a"}, {"OU", "b"}, {"CN", "Test CA"}},
				SerialNumber: big.NewInt(0x1234),
				IsCA:         true,
				PathLen:      &one,
				NotAfter:     time.Now().Add(48 * time.Hour),
			}
			ca := mustCert(t, caTmpl, caKey, nil, nil)
			caPEM := mustPEM(t, ca)
			cli := parseCertText(t, cliCert(t, dir, caKeyPEM, "/C=US/O=nodetls/OU=a/OU=b/CN=Test CA", "0x1234", []string{
				"basicConstraints=critical,CA:TRUE,pathlen:1",
				"keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
			}, nil, nil, ""))
			ours := parseCertText(t, certTextOf(t, dir, ca))
			assert.Equal(t, cli.body, ours.body)
			assert.Equal(t, cli.extensions, ours.extensions)

			serial, _ := new(big.Int).SetString("00C0FFEE0123456789ABCDEF", 16)
			leafTmpl := &CertificateTemplate{
				Subject:               Name{{"C", "US"}, {"CN", "localhost"}},
				SerialNumber:          serial,
				DNSNames:              []string{"localhost", "*.example.com"},
				IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
				EmailAddresses:        []string{"a@b.c"},
				URIs:                  []string{"http://x.y/"},
				KeyUsage:              []string{"digitalSignature", "keyEncipherment"},
				ExtKeyUsage:           []string{"serverAuth", "clientAuth"},
				OCSPServer:            []string{"http://ocsp.example/"},
				IssuingCertificateURL: []string{"http://ca.example/ca.der"},
			}
			leaf := mustCert(t, leafTmpl, leafKey, ca, caKey)
			cli = parseCertText(t, cliCert(t, dir, leafKeyPEM, "/C=US/CN=localhost", "0xC0FFEE0123456789ABCDEF", []string{
				"basicConstraints=critical,CA:FALSE",
				"keyUsage=critical,digitalSignature,keyEncipherment",
				"extendedKeyUsage=serverAuth,clientAuth",
				"subjectAltName=DNS:localhost,DNS:*.example.com,IP:127.0.0.1,IP:::1,email:a@b.c,URI:http://x.y/",
				"authorityInfoAccess=OCSP;URI:http://ocsp.example/,caIssuers;URI:http://ca.example/ca.der",
				"subjectKeyIdentifier=hash",
				"authorityKeyIdentifier=keyid",
			}, caPEM, caKeyPEM, ""))
			ours = parseCertText(t, certTextOf(t, dir, leaf))
			assert.Equal(t, cli.body, ours.body)
			assert.Equal(t, cli.extensions, ours.extensions)
		})
	}
}

// TestCreateCertificateSHA1 signs with SHA-1 (for weak-digest tests) and
// compares with a CLI certificate signed with -sha1.
func TestCreateCertificateSHA1(t *testing.T) {
	dir := t.TempDir()
	k := mustKey(t, "rsa")
	kp, err := k.MarshalPKCS8PEM()
	require.NoError(t, err)
	c := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "weak"}}, SerialNumber: big.NewInt(7), SignatureDigest: "SHA1", NoKeyUsage: true}, k, nil, nil)
	cli := parseCertText(t, cliCert(t, dir, kp, "/CN=weak", "7", []string{"basicConstraints=critical,CA:FALSE"}, nil, nil, "sha1"))
	ours := parseCertText(t, certTextOf(t, dir, c))
	assert.Equal(t, cli.body, ours.body)
	assert.Equal(t, cli.extensions, ours.extensions)
}

// TestCreateCertificateValidity checks that the CLI reads back the windows we
// set (past, future, beyond 2049) and judges them as we meant.
func TestCreateCertificateValidity(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	k := mustKey(t, "ec")
	cases := []struct {
		name                string
		notBefore, notAfter time.Time
		expiredNow          bool
	}{
		{"expired", now.Add(-48 * time.Hour), now.Add(-time.Hour), true},
		{"not yet valid", now.Add(24 * time.Hour), now.Add(48 * time.Hour), false},
		{"current", now.Add(-time.Hour), now.Add(time.Hour), false},
		{"GeneralizedTime", now.Add(-time.Hour), time.Date(2051, 3, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "x"}}, NotBefore: tc.notBefore, NotAfter: tc.notAfter}, k, nil, nil)
			f := writeFile(t, dir, "c.pem", mustPEM(t, c))
			out, stderr, code := runTool(t, dir, "openssl", "x509", "-in", f, "-noout", "-dates")
			require.Equal(t, 0, code, stderr)
			const layout = "Jan _2 15:04:05 2006 GMT"
			assert.Equal(t, fmt.Sprintf("notBefore=%s\nnotAfter=%s\n", tc.notBefore.UTC().Format(layout), tc.notAfter.UTC().Format(layout)), out)
			_, _, code = runTool(t, dir, "openssl", "x509", "-in", f, "-noout", "-checkend", "0")
			assert.Equal(t, tc.expiredNow, code != 0, "openssl x509 -checkend 0")
			info, err := c.Info()
			require.NoError(t, err)
			assert.Equal(t, tc.notBefore.UTC().Format(layout), info.ValidFrom)
			assert.Equal(t, tc.notAfter.UTC().Format(layout), info.ValidTo)
		})
	}
}

// TestCreateCRL revokes one of two leaves and asks `openssl verify -crl_check`.
func TestCreateCRL(t *testing.T) {
	for _, kind := range []string{"rsa", "ed25519"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			caKey, k := mustKey(t, kind), mustKey(t, "ec")
			ca := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "CRL CA"}}, IsCA: true}, caKey, nil, nil)
			good := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "good"}}, SerialNumber: big.NewInt(100)}, k, ca, caKey)
			bad := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "bad"}}, SerialNumber: big.NewInt(101)}, k, ca, caKey)
			now := time.Now()
			crl, err := CreateCRL(ca, caKey, []RevokedCertificate{{Serial: big.NewInt(101), Time: now.Add(-time.Minute)}, {Serial: big.NewInt(5)}},
				now.Add(-time.Hour), now.Add(24*time.Hour))
			require.NoError(t, err)
			require.Len(t, pemBlocks(crl), 1)
			assert.Equal(t, "X509 CRL", pemBlocks(crl)[0].Type)

			caFile := writeFile(t, dir, "ca.pem", mustPEM(t, ca))
			crlFile := writeFile(t, dir, "crl.pem", crl)
			out, stderr, code := runTool(t, dir, "openssl", "crl", "-in", crlFile, "-CAfile", caFile, "-noout", "-text")
			require.Equal(t, 0, code, stderr)
			assert.Contains(t, stderr+out, "verify OK")
			assert.Contains(t, out, "Serial Number: 65")
			assert.Contains(t, out, "Serial Number: 05")

			goodFile := writeFile(t, dir, "good.pem", mustPEM(t, good))
			badFile := writeFile(t, dir, "bad.pem", mustPEM(t, bad))
			out, stderr, code = runTool(t, dir, "openssl", "verify", "-crl_check", "-CRLfile", crlFile, "-CAfile", caFile, goodFile)
			assert.Equal(t, 0, code, out+stderr)
			out, stderr, code = runTool(t, dir, "openssl", "verify", "-crl_check", "-CRLfile", crlFile, "-CAfile", caFile, badFile)
			assert.NotEqual(t, 0, code)
			assert.Contains(t, out+stderr, "certificate revoked")
		})
	}
}

func TestCreateCertificateBadInput(t *testing.T) {
	ec, ed := mustKey(t, "ec"), mustKey(t, "ed25519")
	ca := mustCert(t, &CertificateTemplate{Subject: Name{{"CN", "ca"}}, IsCA: true}, ec, nil, nil)
	neg := -1
	cases := []struct {
		name      string
		tmpl      *CertificateTemplate
		key       *PrivateKey
		issuer    *Certificate
		issuerKey *PrivateKey
	}{
		{"nil template", nil, ec, nil, nil},
		{"nil key", &CertificateTemplate{}, nil, nil, nil},
		{"issuer without key", &CertificateTemplate{}, ec, ca, nil},
		{"issuer with another key", &CertificateTemplate{}, ec, ca, ed},
		{"unknown name field", &CertificateTemplate{Subject: Name{{"NoSuchField", "x"}}}, ec, nil, nil},
		{"empty name field", &CertificateTemplate{Subject: Name{{"", "x"}}}, ec, nil, nil},
		{"unknown key usage", &CertificateTemplate{KeyUsage: []string{"flying"}}, ec, nil, nil},
		{"key usage with syntax", &CertificateTemplate{KeyUsage: []string{"digitalSignature,critical"}}, ec, nil, nil},
		{"empty key usage", &CertificateTemplate{KeyUsage: []string{}}, ec, nil, nil},
		{"unknown ext key usage", &CertificateTemplate{ExtKeyUsage: []string{"flying"}}, ec, nil, nil},
		{"unknown digest", &CertificateTemplate{SignatureDigest: "NOPE"}, ec, nil, nil},
		{"digest with Ed25519", &CertificateTemplate{SignatureDigest: "SHA256"}, ed, nil, nil},
		{"negative path length", &CertificateTemplate{IsCA: true, PathLen: &neg}, ec, nil, nil},
		{"invalid IP", &CertificateTemplate{IPAddresses: []net.IP{{1, 2, 3}}}, ec, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CreateCertificate(tc.tmpl, tc.key, tc.issuer, tc.issuerKey)
			assert.Nil(t, c)
			var oe *Error
			require.ErrorAs(t, err, &oe)
			assert.NotEmpty(t, oe.Reason)
		})
	}
}
