package tls

import (
	"encoding/pem"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nodetls/nodetls/openssl"
)

// DefaultCiphers is Node 20's tls.DEFAULT_CIPHERS on OpenSSL 3.0: the cipher
// string a context gets when SecureContextOptions.Ciphers is empty.
const DefaultCiphers = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" +
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:" +
	"ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:" +
	"ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:" +
	"HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!SRP:!CAMELLIA"

// DefaultECDHCurve is Node's tls.DEFAULT_ECDH_CURVE: "auto" leaves OpenSSL's
// default key exchange groups.
const DefaultECDHCurve = "auto"

// DefaultMinVersion is Node's tls.DEFAULT_MIN_VERSION.
const DefaultMinVersion = "TLSv1.2"

// DefaultMaxVersion is Node's tls.DEFAULT_MAX_VERSION.
const DefaultMaxVersion = "TLSv1.3"

// ClientRenegLimit is Node's tls.CLIENT_RENEG_LIMIT: client-initiated
// renegotiations allowed per ClientRenegWindow before a server socket reports
// ERR_TLS_SESSION_ATTACK.
const ClientRenegLimit = 3

// ClientRenegWindow is Node's tls.CLIENT_RENEG_WINDOW (600 seconds).
const ClientRenegWindow = 10 * time.Minute

// tls13Ciphers are the TLS 1.3 suites Node's getCiphers() always lists.
var tls13Ciphers = []string{"tls_aes_256_gcm_sha384", "tls_chacha20_poly1305_sha256", "tls_aes_128_gcm_sha256",
	"tls_aes_128_ccm_8_sha256", "tls_aes_128_ccm_sha256"}

var (
	ciphersOnce sync.Once
	ciphersList []string
)

// GetCiphers is Node's tls.getCiphers(): the names of the cipher suites
// OpenSSL enables with its default list, plus the five TLS 1.3 suites, in
// lower case, without duplicates, sorted.
func GetCiphers() []string {
	ciphersOnce.Do(func() {
		seen := map[string]bool{}
		list, err := openssl.ResolveCiphers(openssl.CipherQuery{})
		if err == nil {
			for _, c := range list {
				seen[strings.ToLower(c.Name)] = true
			}
		}
		for _, n := range tls13Ciphers {
			seen[n] = true
		}
		for n := range seen {
			ciphersList = append(ciphersList, n)
		}
		sort.Strings(ciphersList)
	})
	return append([]string(nil), ciphersList...)
}

var (
	rootsOnce sync.Once
	rootsList []string
)

// RootCertificates is Node's tls.rootCertificates: the trusted root
// certificates in use, as PEM strings. nodetls trusts the system's roots
// (OpenSSL's default verify paths: SSL_CERT_FILE or the distribution's CA
// bundle) where Node trusts its bundled Mozilla list.
func RootCertificates() []string {
	rootsOnce.Do(func() {
		data, err := os.ReadFile(openssl.DefaultCertFile())
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for {
			var b *pem.Block
			b, data = pem.Decode(data)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" {
				continue
			}
			s := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.Bytes}))
			if !seen[s] {
				seen[s] = true
				rootsList = append(rootsList, s)
			}
		}
	})
	return append([]string(nil), rootsList...)
}

// Bool returns a pointer to v, for the options whose Node default is true
// (RejectUnauthorized: tls.Bool(false)).
func Bool(v bool) *bool { return &v }

// protocolVersion is Node's toV: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3".
func protocolVersion(which, v, def string) (openssl.ProtocolVersion, error) {
	if v == "" {
		v = def
	}
	switch v {
	case "TLSv1":
		return openssl.TLS1, nil
	case "TLSv1.1":
		return openssl.TLS1_1, nil
	case "TLSv1.2":
		return openssl.TLS1_2, nil
	case "TLSv1.3":
		return openssl.TLS1_3, nil
	}
	return 0, errorf("ERR_TLS_INVALID_PROTOCOL_VERSION", "%s is not a valid %s TLS protocol version", jsonStringify(v), which)
}
