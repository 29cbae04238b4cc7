package openssl

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/internal/jsstring"
)

// NameEntry is one attribute of a distinguished name: OpenSSL's short name of
// the type ("C", "O", "OU", "CN", "emailAddress", ...; the dotted OID when
// OpenSSL has no name for it) and the value as UTF-8.
type NameEntry struct {
	Type  string
	Value string
}

// Name is a distinguished name as an ordered list of entries; an attribute may
// repeat (several OU entries). Multi-valued RDNs are flattened, as Node does.
type Name []NameEntry

// Map is the name as Node's object shows it, each type with its values in order.
func (n Name) Map() map[string][]string {
	m := make(map[string][]string, len(n))
	for _, e := range n {
		m[e.Type] = append(m[e.Type], e.Value)
	}
	return m
}

// Get is the first value of the attribute type, or "".
func (n Name) Get(typ string) string {
	for _, e := range n {
		if e.Type == typ {
			return e.Value
		}
	}
	return ""
}

// Values are all values of the attribute type, in order.
func (n Name) Values(typ string) []string {
	var out []string
	for _, e := range n {
		if e.Type == typ {
			out = append(out, e.Value)
		}
	}
	return out
}

// keys are the attribute types in order of first appearance (Node's key order).
func (n Name) keys() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range n {
		if !seen[e.Type] {
			seen[e.Type] = true
			out = append(out, e.Type)
		}
	}
	return out
}

// CertificateInfo is the certificate object of Node's getPeerCertificate()
// and X509Certificate.toLegacyObject(), read from the certificate by OpenSSL
// calls Node makes, in Node's formats. Node leaves a key out in some cases;
// here that is a nil slice or map, an empty string, zero Bits, or a false Has
// flag, as each field says.
type CertificateInfo struct {
	// Subject and Issuer are nil (Node: key absent) when a value cannot be
	// converted to UTF-8.
	Subject, Issuer Name
	// SubjectAltName is Node's "subjectaltname" text, e.g.
	// `DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`, with
	// unsafe values written as JSON string literals (`DNS:"a\u002cb"`).
	SubjectAltName string
	// HasSubjectAltName is set when the certificate has a SAN extension.
	HasSubjectAltName bool
	// SubjectAltNameInvalid is set when the extension cannot be read (Node: null).
	SubjectAltNameInvalid bool
	// InfoAccess is the authorityInfoAccess extension as Node's "infoAccess":
	// "OCSP - URI" and "CA Issuers - URI" to their values; nil when absent.
	InfoAccess map[string][]string
	// InfoAccessKeys are InfoAccess's keys in Node's order.
	InfoAccessKeys []string
	// InfoAccessInvalid is set when the extension cannot be read (Node: null).
	InfoAccessInvalid bool
	// CA is X509_check_ca() == 1.
	CA bool
	// PublicKeyType is OpenSSL's key type name ("RSA", "EC", "ED25519", ...);
	// not part of Node's object.
	PublicKeyType string
	// Modulus (upper-case hex, BN_print) and Exponent ("0x10001") are set for RSA keys.
	Modulus, Exponent string
	// Bits is the RSA modulus size or the EC group order size; 0 when absent.
	Bits int
	// Pubkey is the RSA SubjectPublicKeyInfo DER or the EC point; nil when absent.
	Pubkey []byte
	// ASN1Curve ("prime256v1") and NISTCurve ("P-256") are set for named EC curves.
	ASN1Curve, NISTCurve string
	// ValidFrom and ValidTo are in ASN1_TIME_print format, "Nov 26 22:08:26 2026 GMT".
	ValidFrom, ValidTo string
	// Fingerprint, Fingerprint256 and Fingerprint512 are the SHA-1, SHA-256 and
	// SHA-512 of the DER as upper-case hex bytes joined by ':'.
	Fingerprint, Fingerprint256, Fingerprint512 string
	// ExtKeyUsage are the extended key usage OIDs in dotted form; nil when the
	// certificate has no such extension.
	ExtKeyUsage []string
	// SerialNumber is the serial in upper-case hex (BN_bn2hex).
	SerialNumber string
	// Raw is the certificate's DER.
	Raw []byte
}

// Info reads the certificate into Node's certificate object.
func (c *Certificate) Info() (*CertificateInfo, error) {
	recs, err := c.handle().Info()
	if err != nil {
		return nil, err
	}
	ci := infoFromRecords(recs)
	s1, s256, s512 := sha1.Sum(ci.Raw), sha256.Sum256(ci.Raw), sha512.Sum512(ci.Raw)
	ci.Fingerprint, ci.Fingerprint256, ci.Fingerprint512 = fingerprint(s1[:]), fingerprint(s256[:]), fingerprint(s512[:])
	return ci, nil
}

// IdentityInfo is Info with Subject, SubjectAltName (and the flags that go
// with them) filled in and nothing else: what a host name check
// (checkServerIdentity) reads, at a fraction of Info's cost.
func (c *Certificate) IdentityInfo() (*CertificateInfo, error) {
	recs, err := c.handle().IdentityInfo()
	if err != nil {
		return nil, err
	}
	ci := infoFromRecords(recs)
	ci.Issuer = nil
	return ci, nil
}

func infoFromRecords(recs []cbridge.InfoRecord) *CertificateInfo {
	ci := &CertificateInfo{Subject: Name{}, Issuer: Name{}}
	var san []string
	var aia []string
	for _, r := range recs {
		d := r.Data
		switch r.Tag {
		case cbridge.InfoSubject:
			ci.Subject = appendNameEntry(ci.Subject, d)
		case cbridge.InfoSubjectInvalid:
			ci.Subject = nil
		case cbridge.InfoIssuer:
			ci.Issuer = appendNameEntry(ci.Issuer, d)
		case cbridge.InfoIssuerInvalid:
			ci.Issuer = nil
		case cbridge.InfoSANBegin:
			ci.HasSubjectAltName = true
		case cbridge.InfoSANName:
			san = append(san, formatGeneralName(d))
		case cbridge.InfoSANInvalid:
			ci.SubjectAltNameInvalid = true
		case cbridge.InfoAIABegin:
			ci.InfoAccess = map[string][]string{}
		case cbridge.InfoAIAEntry:
			method, gn, _ := bytes.Cut(d, []byte{0})
			aia = append(aia, string(method)+" - "+formatGeneralName(gn))
		case cbridge.InfoAIAInvalid:
			ci.InfoAccessInvalid = true
		case cbridge.InfoCA:
			ci.CA = len(d) == 1 && d[0] == 1
		case cbridge.InfoKeyType:
			ci.PublicKeyType = string(d)
		case cbridge.InfoModulus:
			ci.Modulus = string(d)
		case cbridge.InfoBits:
			ci.Bits, _ = strconv.Atoi(string(d))
		case cbridge.InfoExponent:
			ci.Exponent = string(d)
		case cbridge.InfoPubkey:
			ci.Pubkey = d
		case cbridge.InfoASN1Curve:
			ci.ASN1Curve = string(d)
		case cbridge.InfoNISTCurve:
			ci.NISTCurve = string(d)
		case cbridge.InfoValidFrom:
			ci.ValidFrom = string(d)
		case cbridge.InfoValidTo:
			ci.ValidTo = string(d)
		case cbridge.InfoEKUBegin:
			ci.ExtKeyUsage = []string{}
		case cbridge.InfoEKU:
			ci.ExtKeyUsage = append(ci.ExtKeyUsage, string(d))
		case cbridge.InfoSerial:
			ci.SerialNumber = string(d)
		case cbridge.InfoRaw:
			ci.Raw = d
		}
	}
	// Node prints each extension's text in C and reads it into a string
	// (jsstring.UTF8); its JavaScript splits the infoAccess text after that.
	if ci.HasSubjectAltName && !ci.SubjectAltNameInvalid {
		ci.SubjectAltName = jsstring.UTF8(strings.Join(san, ", "))
	}
	if ci.InfoAccessInvalid {
		ci.InfoAccess = nil
	} else if ci.InfoAccess != nil {
		ci.InfoAccessKeys = parseInfoAccess(jsstring.UTF8(strings.Join(aia, "\n")), ci.InfoAccess)
	}
	return ci
}

// appendNameEntry adds a "type\0value" record; the value is OpenSSL's UTF-8,
// read as Node's V8 reads it.
func appendNameEntry(n Name, d []byte) Name {
	typ, val, _ := bytes.Cut(d, []byte{0})
	return append(n, NameEntry{Type: string(typ), Value: jsstring.UTF8(string(val))})
}

// fingerprint writes a digest as Node does: upper-case hex bytes joined by ':'.
func fingerprint(sum []byte) string {
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(sum)*3)
	for i, c := range sum {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&0x0f])
	}
	return string(b)
}

// SerialNumberInt is SerialNumber as a number; nil when it is absent.
func (ci *CertificateInfo) SerialNumberInt() *big.Int {
	n, ok := new(big.Int).SetString(ci.SerialNumber, 16)
	if !ok {
		return nil
	}
	return n
}

// formatGeneralName writes one general name of the SAN or AIA extension in
// Node's format (crypto_common.cc PrintGeneralName): "DNS:", "email:", "URI:",
// "DirName:", "IP Address:", "Registered ID:", "othername:", with values that
// could be misread written as JSON string literals.
func formatGeneralName(d []byte) string {
	if len(d) == 0 {
		return ""
	}
	typ, v := int(d[0]), d[1:]
	switch typ {
	case cbridge.GenDNS:
		return "DNS:" + altName(v, false, "")
	case cbridge.GenEmail:
		return "email:" + altName(v, false, "")
	case cbridge.GenURI:
		return "URI:" + altName(v, false, "")
	case cbridge.GenDirName:
		return "DirName:" + altName(v, true, "")
	case cbridge.GenIPAddress:
		switch len(v) {
		case 4:
			return fmt.Sprintf("IP Address:%d.%d.%d.%d", v[0], v[1], v[2], v[3])
		case 16:
			var b strings.Builder
			b.WriteString("IP Address:")
			for j := 0; j < 8; j++ {
				if j > 0 {
					b.WriteByte(':')
				}
				fmt.Fprintf(&b, "%X", uint16(v[2*j])<<8|uint16(v[2*j+1]))
			}
			return b.String()
		}
		return fmt.Sprintf("IP Address:<invalid length=%d>", len(v))
	case cbridge.GenRID:
		return "Registered ID:" + string(v)
	case cbridge.GenOtherName:
		if len(v) == 0 || int(v[0]) == cbridge.OtherNameUnsupported {
			return "othername:<unsupported>"
		}
		prefix, val, _ := bytes.Cut(v[1:], []byte{0})
		return "othername:" + altName(val, int(v[0]) == cbridge.OtherNameUTF8, string(prefix))
	case cbridge.GenX400:
		return "X400Name:<unsupported>"
	case cbridge.GenEDIParty:
		return "EdiPartyName:<unsupported>"
	}
	return ""
}

// safeAltName reports whether Node prints a value as it is: no double quote,
// backslash, comma or single quote, no control bytes, and for IA5 types
// nothing outside printable ASCII.
func safeAltName(v []byte, utf8 bool) bool {
	for _, c := range v {
		switch {
		case c == '"' || c == '\\' || c == ',' || c == '\'':
			return false
		case utf8 && (c < ' ' || c == 0x7f):
			return false
		case !utf8 && (c < ' ' || c > '~'):
			return false
		}
	}
	return true
}

// altName writes a value, after "prefix:" when prefix is set, either as it is
// or, when it is not safe, as a JSON string literal holding the prefix too:
// '\\' and '"' are backslash-escaped; commas, control bytes and (for IA5
// types) non-ASCII bytes become \u00XX, each byte taken as Latin-1.
func altName(v []byte, utf8 bool, prefix string) string {
	var b strings.Builder
	if safeAltName(v, utf8) {
		if prefix != "" {
			b.WriteString(prefix)
			b.WriteByte(':')
		}
		b.Write(v)
		return b.String()
	}
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	if prefix != "" {
		b.WriteString(prefix)
		b.WriteByte(':')
	}
	for _, c := range v {
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '"':
			b.WriteString(`\"`)
		case (c >= ' ' && c != ',' && c <= '~') || (utf8 && c&0x80 != 0):
			b.WriteByte(c)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
	}
	b.WriteByte('"')
	return b.String()
}

// infoAccessLine is the pattern Node's translatePeerCertificate applies to the
// infoAccess text: the key runs to the first ':' of a line, the value to its end.
var infoAccessLine = regexp.MustCompile(`([^\n:]*):([^\n]*)(?:\n|$)`)

// parseInfoAccess fills m from the "method - name" lines as Node does, a value
// starting with '"' being a JSON string literal, and returns the keys in order.
func parseInfoAccess(text string, m map[string][]string) []string {
	var keys []string
	for _, sm := range infoAccessLine.FindAllStringSubmatch(text, -1) {
		key, val := sm[1], sm[2]
		if strings.HasPrefix(val, `"`) {
			var s string
			if json.Unmarshal([]byte(val), &s) == nil {
				val = s
			}
		}
		if _, ok := m[key]; !ok {
			keys = append(keys, key)
		}
		m[key] = append(m[key], val)
	}
	return keys
}
