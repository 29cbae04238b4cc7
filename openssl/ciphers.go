package openssl

import (
	"strings"
	"sync"

	"github.com/nodetls/nodetls/cbridge"
)

// Cipher is one cipher suite as OpenSSL describes it: the words of
// `openssl ciphers -v` and the numbers behind them.
type Cipher struct {
	Name         string // OpenSSL's name, e.g. "ECDHE-RSA-AES128-GCM-SHA256" or "TLS_AES_128_GCM_SHA256"
	StandardName string // the IANA/RFC name (SSL_CIPHER_standard_name); "" when OpenSSL has none
	ID           uint32 // SSL_CIPHER_get_id, e.g. 0x0300C02F
	ProtocolID   uint16 // the two bytes on the wire (SSL_CIPHER_get_protocol_id), e.g. 0xC02F
	Version      string // SSL_CIPHER_get_version, the lowest version it is defined for: "TLSv1.3", "TLSv1.2", "TLSv1.0", "SSLv3"
	Kx           string // key exchange, as in the description: "ECDH", "DH", "RSA", "PSK", "any", ...
	Au           string // authentication: "RSA", "ECDSA", "None", "any", ...
	Enc          string // encryption: "AESGCM(128)", "CHACHA20/POLY1305(256)", "None", ...
	Mac          string // message authentication: "AEAD", "SHA256", "SHA1", ...
	Bits         int    // secret bits (strength) of the cipher
	AlgBits      int    // bits processed by the algorithm
	AEAD         bool   // an AEAD cipher
	Description  string // SSL_CIPHER_description exactly, trailing newline included
}

// CipherQuery is the input of ResolveCiphers; each field mirrors a setting of
// `openssl ciphers`. The zero value asks for OpenSSL's default list.
type CipherQuery struct {
	// CipherList is the cipher string for TLSv1.2 and below
	// (SSL_CTX_set_cipher_list), e.g. "HIGH:!aNULL:@SECLEVEL=1". Nil keeps
	// OpenSSL's default; a pointer to "" is an (invalid) empty string.
	CipherList *string
	// Ciphersuites is the TLSv1.3 suite list (SSL_CTX_set_ciphersuites). Nil
	// keeps OpenSSL's default; a pointer to "" enables no TLSv1.3 suite.
	Ciphersuites *string
	// SecurityLevel (0..5) is set before the cipher string, so "@SECLEVEL=N"
	// inside CipherList wins. Nil keeps the system's configured level.
	SecurityLevel *int
	// MinVersion and MaxVersion bound the protocol versions (0 = no bound).
	MinVersion, MaxVersion ProtocolVersion
	// PSK keeps the PSK suites usable, as a PSK callback would (openssl ciphers -psk).
	PSK bool
	// SRP keeps the SRP suites usable, as an SRP callback would (openssl ciphers -srp).
	SRP bool
	// SupportedOnly lists only the ciphers this configuration could negotiate
	// (SSL_get1_supported_ciphers, openssl ciphers -s) instead of the whole
	// configured list (SSL_get_ciphers).
	SupportedOnly bool
	// PropQuery is the property query for the context's algorithm fetches
	// (openssl ciphers -propquery); "" = none.
	PropQuery string
}

// ResolveCiphers returns the ordered cipher list OpenSSL builds for q, exactly
// as `openssl ciphers` computes it: a TLS server context with q's protocol
// bounds, callbacks, TLSv1.3 suites and cipher string, and a connection made
// from it. A string OpenSSL rejects is an *Error with OpenSSL's reason, e.g.
// "no cipher match" (Op "SSL_CTX_set_cipher_list" or "SSL_CTX_set_ciphersuites").
// An empty result with SupportedOnly is not an error: nothing is usable.
func ResolveCiphers(q CipherQuery) ([]Cipher, error) {
	p := cbridge.CipherParams{
		CipherList:   q.CipherList,
		Ciphersuites: q.Ciphersuites,
		PropQuery:    q.PropQuery,
		SecLevel:     -1,
		MinVersion:   int(q.MinVersion),
		MaxVersion:   int(q.MaxVersion),
		PSK:          q.PSK,
		SRP:          q.SRP,
		Supported:    q.SupportedOnly,
	}
	if q.SecurityLevel != nil {
		if *q.SecurityLevel < 0 || *q.SecurityLevel > 5 {
			return nil, cbridge.NewError("SSL_CTX_set_security_level", "nodetls", "security level must be 0 to 5")
		}
		p.SecLevel = *q.SecurityLevel
	}
	infos, err := cbridge.ResolveCiphers(p)
	if err != nil {
		return nil, err
	}
	out := make([]Cipher, len(infos))
	for i, in := range infos {
		out[i] = cipherFromInfo(in)
	}
	return out, nil
}

func cipherFromInfo(in cbridge.CipherInfo) Cipher {
	c := Cipher{
		Name:         in.Name,
		StandardName: in.StandardName,
		ID:           in.ID,
		ProtocolID:   in.ProtocolID,
		Version:      in.Version,
		Bits:         in.Bits,
		AlgBits:      in.AlgBits,
		AEAD:         in.AEAD,
		Description:  in.Description,
	}
	// The description is "NAME VERSION Kx=.. Au=.. Enc=.. Mac=..", padded with
	// spaces; no field holds a space.
	for _, f := range strings.Fields(in.Description) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "Kx":
			c.Kx = v
		case "Au":
			c.Au = v
		case "Enc":
			c.Enc = v
		case "Mac":
			c.Mac = v
		}
	}
	return c
}

// tls13Suites are all TLSv1.3 suites OpenSSL 3 implements; its default
// enables only the first three.
const tls13Suites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" +
	"TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

// allCiphers is every cipher this OpenSSL build knows (ALL plus its complement,
// at security level 0, with every TLSv1.3 suite), resolved once.
var allCiphers = sync.OnceValues(func() ([]Cipher, error) {
	list, suites := "ALL:COMPLEMENTOFALL:@SECLEVEL=0", tls13Suites
	return ResolveCiphers(CipherQuery{CipherList: &list, Ciphersuites: &suites})
})

// CipherByName finds a cipher this OpenSSL build implements by its OpenSSL
// name ("AES128-SHA") or its standard name ("TLS_RSA_WITH_AES_128_CBC_SHA").
// ok is false for an unknown name, and for every name when OpenSSL cannot
// build a cipher list at all (no provider offers the algorithms).
func CipherByName(name string) (Cipher, bool) {
	all, err := allCiphers()
	if err != nil {
		return Cipher{}, false
	}
	for _, c := range all {
		if c.Name == name || (c.StandardName != "" && c.StandardName == name) {
			return c, true
		}
	}
	return Cipher{}, false
}

// ConvertStandardName is OPENSSL_cipher_name (openssl ciphers -convert): the
// OpenSSL name of a cipher given its standard name. ok is false when OpenSSL
// knows no cipher of that standard name.
func ConvertStandardName(standardName string) (name string, ok bool) {
	n := cbridge.CipherNameFromStandard(standardName)
	if n == "(NONE)" {
		return "", false
	}
	return n, true
}
