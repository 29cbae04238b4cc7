package openssl_test

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"testing"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/require"
)

// FuzzCertificateInfo builds a certificate from the fuzz arguments — its
// serial number, subject and issuer (any attribute, string type and bytes),
// validity times (UTCTime or GeneralizedTime, any text), subjectAltName and
// authorityInfoAccess (every kind of general name, with any content),
// extended key usages, basic constraints and key usage, and one of a table
// of public keys (RSA, EC on named curves, Ed25519, Ed448, X25519, broken
// ones) — and compares Certificate.Info's Node object (NodeJSON) with
// node's new X509Certificate(der).toLegacyObject() for the same DER: the
// JSON text must be equal, Buffers as hex and as JSON.stringify writes them;
// a certificate node cannot read must be an error here too.
//
// The signature is not valid (neither side checks it); the certificate only
// has to be read.
func FuzzCertificateInfo(f *testing.F) {
	keys := certFuzzKeys(f)
	type seed struct {
		serial, names, notBefore, notAfter, san, aia, eku []byte
		key, flags                                        uint8
	}
	entry := func(op byte, v string) []byte { return append([]byte{op, byte(len(v))}, v...) }
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	utc := []byte("250101000000Z")
	gen := []byte("20500101000000Z")
	const sanOn, aiaOn, ekuOn, caOn, kuOn = 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6
	seeds := []seed{
		{serial: []byte{1}, names: entry(0x80, "localhost"), notBefore: utc, notAfter: utc},
		// Every name attribute and string type; a multi-valued RDN.
		{serial: []byte{0x80, 1}, names: cat(entry(0x80|0x01, "nodetls"), entry(0x80|0x12, "Engineering"),
			entry(0x02, "Marketing"), entry(0x80|0x23, "US"), entry(0x80|0x34, "Ca\xe9"),
			entry(0x80|0x45, "\x00S\x00F"), entry(0x80|0x06, "a@b.c"), entry(0x80|0x56, "\x00\x00\x00a"), entry(0x80|0x6b, "x"),
			entry(0x80|0x3c, "y"), entry(0x80|0x0d, "line1\nline2 \"q\" \\")),
			notBefore: gen, notAfter: gen, flags: 3 | caOn | kuOn, key: 1},
		// Every general name in the SAN and the AIA; EKUs.
		{serial: []byte{0}, names: entry(0x80, "a"), notBefore: utc, notAfter: gen,
			san: cat(entry(2, "a.example"), entry(2, "a,b"), entry(7, "\x7f\x00\x00\x01"),
				entry(7, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"), entry(7, "\x01\x02\x03"),
				entry(1, "x@y.z"), entry(6, "http://x.y/?a=1,2"), entry(8, "\x2a\x03"),
				entry(0x10, "me@x"), entry(0x30, "a,b"), entry(0x50, "_sip.x"), entry(0xb0, "z"),
				entry(0x14, "\x80\x02CN"), entry(0x14, "\x30\x00")),
			aia:   cat(entry(0x06, "http://ocsp/"), entry(0x16, "http://ca/"), entry(0x26, "x"), entry(0x32, "dns")),
			eku:   []byte{0, 1, 2, 3, 4, 5, 6, 7, 0xf0, 3, 0x2a, 0x03, 0x04},
			flags: sanOn | aiaOn | ekuOn, key: 3},
		// General names that cannot be read.
		{serial: []byte{2}, names: entry(0x80, "b"), notBefore: utc, notAfter: utc,
			san: cat(entry(2, "ok"), entry(3, "")), aia: entry(0x05, ""), flags: sanOn | aiaOn},
	}
	for i := range keys {
		seeds = append(seeds, seed{serial: []byte{byte(i + 1)}, names: entry(0x80, "k"), notBefore: utc, notAfter: utc, key: uint8(i)})
	}
	for _, s := range seeds {
		f.Add(s.serial, s.names, s.notBefore, s.notAfter, s.san, s.aia, s.eku, s.key, s.flags)
	}

	oracle := nodeoracle.Start(f, certInfoOracleScript)
	f.Fuzz(func(t *testing.T, serial, names, notBefore, notAfter, san, aia, eku []byte, key, flags uint8) {
		der := certFuzzDER(serial, names, notBefore, notAfter, san, aia, eku, keys[int(key)%len(keys)], flags)
		var want struct {
			OK            bool
			Hex, Plain    string
			Code, Message string
		}
		oracle.Ask(t, map[string]string{"der": hex.EncodeToString(der)}, &want)
		c, err := openssl.ParseCertificate(der)
		if !want.OK {
			require.Error(t, err, "node cannot read the certificate (%s: %s); der %x", want.Code, want.Message, der)
			requireOpenSSLError(t, err)
			return
		}
		require.NoError(t, err, "node reads the certificate; der %x", der)
		defer c.Free()
		ci, err := c.Info()
		require.NoError(t, err, "der %x", der)
		require.Equal(t, want.Hex, string(ci.NodeJSON(openssl.BufferHex)), "JSON with hex Buffers; der %x", der)
		require.Equal(t, want.Plain, string(ci.NodeJSON(openssl.BufferNode)), "JSON.stringify; der %x", der)
		// IdentityInfo (the host name check's reading) agrees with Info.
		id, err := c.IdentityInfo()
		require.NoError(t, err, "der %x", der)
		require.Equal(t, ci.Subject, id.Subject, "der %x", der)
		require.Equal(t, ci.SubjectAltName, id.SubjectAltName, "der %x", der)
		require.Equal(t, ci.HasSubjectAltName, id.HasSubjectAltName, "der %x", der)
		require.Equal(t, ci.SubjectAltNameInvalid, id.SubjectAltNameInvalid, "der %x", der)
	})
}

// certInfoOracleScript answers {der} with node's legacy object as JSON
// (Buffers as hex, and as JSON.stringify writes them), or the error that
// reading the certificate threw.
const certInfoOracleScript = `
const { X509Certificate } = require('crypto');
const hexBuffers = (k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data)) ? Buffer.from(v.data).toString('hex') : v;
function answer(req) {
  let o;
  try {
    o = new X509Certificate(Buffer.from(req.der, 'hex')).toLegacyObject();
  } catch (e) {
    return { ok: false, code: String(e.code), message: String(e.message) };
  }
  return { ok: true, hex: JSON.stringify(o, hexBuffers), plain: JSON.stringify(o) };
}
`

// certFuzzKeys are SubjectPublicKeyInfos for the fuzzed certificates: every
// key type Node describes, odd RSA exponents, and keys OpenSSL cannot decode.
func certFuzzKeys(f *testing.F) [][]byte {
	f.Helper()
	var keys [][]byte
	add := func(der []byte, err error) {
		f.Helper()
		require.NoError(f, err)
		keys = append(keys, der)
	}
	gen := func(k *openssl.PrivateKey, err error) {
		f.Helper()
		require.NoError(f, err)
		defer k.Free()
		add(k.PublicKeyDER())
	}
	gen(openssl.GenerateRSAKey(2048))
	gen(openssl.GenerateECKey("P-256"))
	gen(openssl.GenerateECKey("P-384"))
	gen(openssl.GenerateECKey("secp521r1"))
	gen(openssl.GenerateECKey("secp256k1"))
	gen(openssl.GenerateECKey("brainpoolP256r1"))
	gen(openssl.GenerateEd25519Key())
	gen(openssl.GenerateEd448Key())
	x, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(f, err)
	add(x509.MarshalPKIXPublicKey(x.PublicKey()))
	r, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(f, err)
	for _, e := range []int{3, 1, 2, 0x7fffffff} {
		add(x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: r.N, E: e}))
	}
	rsaOID := derTLV(0x06, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01})
	ecOID := derTLV(0x06, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01})
	// The P-256 key's point compressed and in the hybrid form (Node shows
	// the uncompressed form of both).
	p256 := derTLV(0x06, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})
	pub, err := x509.ParsePKIXPublicKey(keys[1])
	require.NoError(f, err)
	point, err := pub.(*ecdsa.PublicKey).Bytes() // 04 | X | Y
	require.NoError(f, err)
	odd := point[64] & 1
	compressed := append([]byte{0, 2 | odd}, point[1:33]...)
	hybrid := append([]byte{0, 6 | odd}, point[1:]...)
	for _, bits := range [][]byte{compressed, hybrid} {
		keys = append(keys, derTLV(0x30, derTLV(0x30, ecOID, p256), derTLV(0x03, bits)))
	}
	// An RSA key whose bit string is not an RSAPublicKey; an EC key on an
	// unknown curve; an unknown algorithm.
	keys = append(keys,
		derTLV(0x30, derTLV(0x30, rsaOID, []byte{5, 0}), derTLV(0x03, []byte{0, 1, 2})),
		derTLV(0x30, derTLV(0x30, ecOID, derTLV(0x06, []byte{0x2a, 0x03})), derTLV(0x03, []byte{0, 4, 1, 2})),
		derTLV(0x30, derTLV(0x30, derTLV(0x06, []byte{0x2a, 0x03, 0x04})), derTLV(0x03, []byte{0, 1})))
	return keys
}

// derTLV is a DER element: tag, definite length, the contents concatenated.
func derTLV(tag byte, contents ...[]byte) []byte {
	var c []byte
	for _, b := range contents {
		c = append(c, b...)
	}
	n := len(c)
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, c...)
}

var (
	// certFuzzAttrs are name attribute types: CN, O, OU, C, ST, L,
	// emailAddress, serialNumber, DC, UID, title, givenName, street, an
	// unknown OID, name, pseudonym.
	certFuzzAttrs = [][]byte{
		{0x55, 0x04, 0x03}, {0x55, 0x04, 0x0a}, {0x55, 0x04, 0x0b}, {0x55, 0x04, 0x06},
		{0x55, 0x04, 0x08}, {0x55, 0x04, 0x07}, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01},
		{0x55, 0x04, 0x05}, {0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19},
		{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, {0x55, 0x04, 0x0c},
		{0x55, 0x04, 0x2a}, {0x55, 0x04, 0x09}, {0x2a, 0x03, 0x04}, {0x55, 0x04, 0x29}, {0x55, 0x04, 0x41},
	}
	// certFuzzStringTags are ASN.1 string types: UTF8String, PrintableString,
	// IA5String, T61String, BMPString, UniversalString, NumericString, and
	// OCTET STRING (not a string type a name may hold).
	certFuzzStringTags = []byte{0x0c, 0x13, 0x16, 0x14, 0x1e, 0x1c, 0x12, 0x04}
	// certFuzzOtherNames are otherName type OIDs: XmppAddr, UPN, SRVName,
	// SmtpUTF8Mailbox, NAIRealm, an unknown OID.
	certFuzzOtherNames = [][]byte{
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x05},
		{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x14, 0x02, 0x03},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x07},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x09},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x08, 0x08},
		{0x2a, 0x03},
	}
	// certFuzzAccessMethods are AIA access methods: OCSP, caIssuers,
	// caRepository, an unknown OID.
	certFuzzAccessMethods = [][]byte{
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x05},
		{0x2a, 0x03, 0x04},
	}
	// certFuzzEKUs are extended key usages: serverAuth, clientAuth,
	// codeSigning, emailProtection, timeStamping, OCSPSigning,
	// anyExtendedKeyUsage, an unknown OID.
	certFuzzEKUs = [][]byte{
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01}, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03}, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04},
		{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08}, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09},
		{0x55, 0x1d, 0x25, 0x00}, {0x2a, 0x03, 0x04, 0x05},
	}
)

// certFuzzEntries splits a fuzz argument into entries: an op byte, a length
// byte (at most 127 bytes are taken) and that many bytes of value (fewer at the end).
func certFuzzEntries(b []byte, each func(op byte, v []byte)) {
	for len(b) >= 2 {
		op, n := b[0], int(b[1]&0x7f)
		b = b[2:]
		n = min(n, len(b))
		each(op, b[:n])
		b = b[n:]
	}
}

// certFuzzName is a Name from entries: op's high bit starts a new RDN (else
// the attribute joins the current one, a multi-valued RDN), bits 4-6 pick
// the string type, bits 0-3 the attribute type.
func certFuzzName(b []byte) []byte {
	var rdns [][]byte
	certFuzzEntries(b, func(op byte, v []byte) {
		atv := derTLV(0x30, derTLV(0x06, certFuzzAttrs[op&0x0f]), derTLV(certFuzzStringTags[(op>>4)&7], v))
		if op&0x80 != 0 || len(rdns) == 0 {
			rdns = append(rdns, nil)
		}
		rdns[len(rdns)-1] = append(rdns[len(rdns)-1], atv...)
	})
	var seq []byte
	for _, r := range rdns {
		seq = append(seq, derTLV(0x31, r)...)
	}
	return derTLV(0x30, seq)
}

// certFuzzGeneralName is a GeneralName: op's bits 0-3 (mod 9) pick the
// choice, the value is its contents; with bit 4 set an otherName is built
// from a type (bits 5-7) and a UTF8String value, a directoryName from the
// value read as name entries (certFuzzName).
func certFuzzGeneralName(op byte, v []byte) []byte {
	choice := op & 0x0f % 9
	built := op&0x10 != 0
	switch choice {
	case 0: // otherName
		if built {
			oid := certFuzzOtherNames[int(op>>5)%len(certFuzzOtherNames)]
			return derTLV(0xa0, derTLV(0x06, oid), derTLV(0xa0, derTLV(0x0c, v)))
		}
		return derTLV(0xa0, v)
	case 3, 5: // x400Address, ediPartyName
		return derTLV(0xa0|choice, v)
	case 4: // directoryName
		if built {
			return derTLV(0xa4, certFuzzName(v))
		}
		return derTLV(0xa4, v)
	}
	return derTLV(0x80|choice, v) // rfc822Name, dNSName, URI, iPAddress, registeredID
}

// certFuzzDER is the certificate the fuzz arguments describe. flags: bit 0
// notBefore and bit 1 notAfter as GeneralizedTime (else UTCTime); bit 2 a
// subjectAltName, bit 3 an authorityInfoAccess, bit 4 an extKeyUsage
// extension; bit 5 basicConstraints CA:TRUE; bit 6 a keyUsage without
// keyCertSign; bit 7 the issuer is the subject (else CN=issuer).
func certFuzzDER(serial, names, notBefore, notAfter, san, aia, eku, spki []byte, flags uint8) []byte {
	timeTag := func(bit uint8) byte {
		if flags&bit != 0 {
			return 0x18
		}
		return 0x17
	}
	ext := func(oid []byte, value []byte) []byte {
		return derTLV(0x30, derTLV(0x06, oid), derTLV(0x04, value))
	}
	var exts []byte
	if flags&(1<<2) != 0 {
		var gns []byte
		certFuzzEntries(san, func(op byte, v []byte) { gns = append(gns, certFuzzGeneralName(op, v)...) })
		exts = append(exts, ext([]byte{0x55, 0x1d, 0x11}, derTLV(0x30, gns))...)
	}
	if flags&(1<<3) != 0 {
		var ads []byte
		certFuzzEntries(aia, func(op byte, v []byte) {
			method := certFuzzAccessMethods[int(op>>6)%len(certFuzzAccessMethods)]
			ads = append(ads, derTLV(0x30, derTLV(0x06, method), certFuzzGeneralName(op&0x3f, v))...)
		})
		exts = append(exts, ext([]byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01}, derTLV(0x30, ads))...)
	}
	if flags&(1<<4) != 0 {
		var oids []byte
		for i := 0; i < len(eku); i++ {
			if eku[i] < 0xf0 || i+1 >= len(eku) {
				oids = append(oids, derTLV(0x06, certFuzzEKUs[int(eku[i])%len(certFuzzEKUs)])...)
				continue
			}
			n := min(int(eku[i+1]&0x3f), len(eku)-i-2) // a raw OID: 0xf0-0xff, length, bytes
			oids = append(oids, derTLV(0x06, eku[i+2:i+2+n])...)
			i += 1 + n
		}
		exts = append(exts, ext([]byte{0x55, 0x1d, 0x25}, derTLV(0x30, oids))...)
	}
	if flags&(1<<5) != 0 {
		exts = append(exts, ext([]byte{0x55, 0x1d, 0x13}, derTLV(0x30, []byte{0x01, 0x01, 0xff}))...)
	}
	if flags&(1<<6) != 0 {
		exts = append(exts, ext([]byte{0x55, 0x1d, 0x0f}, derTLV(0x03, []byte{0x07, 0x80}))...)
	}
	subject := certFuzzName(names)
	issuer := derTLV(0x30, derTLV(0x31, derTLV(0x30, derTLV(0x06, []byte{0x55, 0x04, 0x03}), derTLV(0x0c, []byte("issuer")))))
	if flags&(1<<7) != 0 {
		issuer = subject
	}
	sigAlg := derTLV(0x30, derTLV(0x06, []byte{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02})) // ecdsa-with-SHA256
	tbs := derTLV(0x30,
		derTLV(0xa0, derTLV(0x02, []byte{2})), // v3
		derTLV(0x02, serial),
		sigAlg,
		issuer,
		derTLV(0x30, derTLV(timeTag(1), notBefore), derTLV(timeTag(2), notAfter)),
		subject,
		spki,
		derTLV(0xa3, derTLV(0x30, exts)),
	)
	return derTLV(0x30, tbs, sigAlg, derTLV(0x03, []byte{0, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}))
}
