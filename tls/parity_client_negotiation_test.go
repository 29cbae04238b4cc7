package tls_test

import (
	"strings"
	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/stretchr/testify/assert"
)

// Client-side negotiation: ciphers, protocol versions, key exchange,
// signature algorithms and ALPN, each case run by a node client and by
// tls.Connect against the same node server. Node bundles OpenSSL at security
// level 1 and the system's libssl runs at level 2, so cases where the level
// decides name it explicitly ("@SECLEVEL=N") on both sides.
func TestParityClientNegotiation(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost", "127.0.0.1")
	ecLeaf := root.Leaf(t, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	rootCA := str(root.CertPEM)
	srv := func(extra map[string]any) parity.ServerSpec {
		o := map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM)}
		for k, v := range extra {
			o[k] = v
		}
		return parity.ServerSpec{Options: o}
	}
	dh1024, dh2048 := dhParams(t, "1024"), dhParams(t, "2048")
	const lowSec = "DEFAULT:@SECLEVEL=0"
	ports := startNodeServers(t, map[string]parity.ServerSpec{
		"default":                srv(nil),
		"AES256-SHA":             srv(map[string]any{"ciphers": "AES256-SHA", "maxVersion": "TLSv1.2"}),
		"AES256-SHA/1.3":         srv(map[string]any{"ciphers": "AES256-SHA"}),
		"AES256-SHA256":          srv(map[string]any{"ciphers": "AES256-SHA256", "maxVersion": "TLSv1.2"}),
		"TLS_AES_256":            srv(map[string]any{"ciphers": "TLS_AES_256_GCM_SHA384"}),
		"TLS_CHACHA":             srv(map[string]any{"ciphers": "TLS_CHACHA20_POLY1305_SHA256"}),
		"CHACHA+AES256-SHA256":   srv(map[string]any{"ciphers": "TLS_CHACHA20_POLY1305_SHA256:AES256-SHA256"}),
		"AES256-SHA+TLS_AES_256": srv(map[string]any{"ciphers": "AES256-SHA:TLS_AES_256_GCM_SHA384"}),
		"CCM8":                   srv(map[string]any{"ciphers": "TLS_AES_128_CCM_8_SHA256"}),
		"honor":                  srv(map[string]any{"ciphers": "AES256-SHA256:AES128-GCM-SHA256:AES128-SHA256", "maxVersion": "TLSv1.2"}),
		"client order":           srv(map[string]any{"ciphers": "AES256-SHA256:AES128-GCM-SHA256:AES128-SHA256", "maxVersion": "TLSv1.2", "honorCipherOrder": false}),
		"TLS_method":             srv(map[string]any{"secureProtocol": "TLS_method", "ciphers": lowSec}),
		"TLSv1_method":           srv(map[string]any{"secureProtocol": "TLSv1_method", "ciphers": lowSec}),
		"TLSv1_1_method":         srv(map[string]any{"secureProtocol": "TLSv1_1_method", "ciphers": lowSec}),
		"TLSv1_2_method":         srv(map[string]any{"secureProtocol": "TLSv1_2_method"}),
		"SSLv23_method":          srv(map[string]any{"secureProtocol": "SSLv23_method", "ciphers": lowSec}),
		"TLSv1-TLSv1.1":          srv(map[string]any{"minVersion": "TLSv1", "maxVersion": "TLSv1.1", "ciphers": lowSec}),
		"max 1.2":                srv(map[string]any{"maxVersion": "TLSv1.2"}),
		"min 1.3":                srv(map[string]any{"minVersion": "TLSv1.3"}),
		"NOT_PFS":                srv(map[string]any{"ciphers": "AES128-SHA256", "maxVersion": "TLSv1.2"}),
		"DH1024":                 srv(map[string]any{"ciphers": "DHE-RSA-AES128-GCM-SHA256", "dhparam": dh1024, "maxVersion": "TLSv1.2"}),
		"DH2048":                 srv(map[string]any{"ciphers": "DHE-RSA-AES128-GCM-SHA256", "dhparam": dh2048, "maxVersion": "TLSv1.2"}),
		"ECDH":                   srv(map[string]any{"ciphers": "ECDHE-RSA-AES128-GCM-SHA256", "maxVersion": "TLSv1.2"}),
		"ECDH secp521r1":         srv(map[string]any{"ciphers": "ECDHE-RSA-AES128-GCM-SHA256", "ecdhCurve": "secp521r1", "maxVersion": "TLSv1.2"}),
		"dhe 1024":               srv(map[string]any{"ciphers": "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256", "dhparam": dh1024, "maxVersion": "TLSv1.2"}),
		"dhe 2048":               srv(map[string]any{"ciphers": "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256", "dhparam": dh2048, "maxVersion": "TLSv1.2"}),
		"dhe error":              srv(map[string]any{"ciphers": "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256", "dhparam": "error", "maxVersion": "TLSv1.2"}),
		"ecdh multiple":          srv(map[string]any{"ciphers": "-ALL:ECDHE-RSA-AES128-SHA256", "ecdhCurve": "secp256k1:prime256v1:secp521r1"}),
		"ecdh X25519":            srv(map[string]any{"ecdhCurve": "X25519"}),
		"alpn":                   srv(map[string]any{"ALPNProtocols": []string{"h2", "http/1.1"}}),
		"ec":                     {Options: map[string]any{"key": str(ecLeaf.KeyPEM), "cert": str(ecLeaf.ChainPEM)}},
	})

	type tc struct {
		name, server string
		opts         map[string]any
		spec         parity.ClientSpec
	}
	trusted := func(o map[string]any) map[string]any {
		out := map[string]any{"ca": rootCA, "servername": "localhost"}
		for k, v := range o {
			out[k] = v
		}
		return out
	}
	loose := func(o map[string]any) map[string]any {
		out := map[string]any{"rejectUnauthorized": false}
		for k, v := range o {
			out[k] = v
		}
		return out
	}
	ekInfo := parity.ClientSpec{Extra: []string{"ephemeralKeyInfo"}}
	cases := []tc{
		// test-tls-set-ciphers: the TLS 1.2/1.3 split, the negotiated names
		// and the error codes on each side.
		{"set-ciphers/server AES256-SHA", "AES256-SHA", trusted(map[string]any{"maxVersion": "TLSv1.2"}), parity.ClientSpec{}},
		{"set-ciphers/client AES256-SHA", "default", trusted(map[string]any{"ciphers": "AES256-SHA", "maxVersion": "TLSv1.2"}), parity.ClientSpec{}},
		{"set-ciphers/server TLS_AES_256_GCM_SHA384", "TLS_AES_256", trusted(nil), parity.ClientSpec{}},
		{"set-ciphers/client TLS_AES_256_GCM_SHA384", "default", trusted(map[string]any{"ciphers": "TLS_AES_256_GCM_SHA384"}), parity.ClientSpec{}},
		{"set-ciphers/client TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256", "default", trusted(map[string]any{"ciphers": "TLS_AES_256_GCM_SHA384:!TLS_CHACHA20_POLY1305_SHA256"}), parity.ClientSpec{}},
		{"set-ciphers/no shared TLS 1.3 suite", "TLS_CHACHA", trusted(map[string]any{"ciphers": "TLS_AES_256_GCM_SHA384"}), parity.ClientSpec{}},
		{"set-ciphers/no shared TLS 1.2 cipher", "AES256-SHA256", trusted(map[string]any{"ciphers": "AES256-SHA", "maxVersion": "TLSv1.2"}), parity.ClientSpec{}},
		{"set-ciphers/no shared cipher, mixed lists", "CHACHA+AES256-SHA256", trusted(map[string]any{"ciphers": "AES256-SHA:TLS_AES_256_GCM_SHA384"}), parity.ClientSpec{}},
		{"set-ciphers/TLS 1.3 chosen before TLS 1.2 (client list)", "default", trusted(map[string]any{"ciphers": "AES256-SHA:TLS_AES_256_GCM_SHA384"}), parity.ClientSpec{}},
		{"set-ciphers/TLS 1.3 chosen before TLS 1.2 (server list)", "AES256-SHA+TLS_AES_256", trusted(nil), parity.ClientSpec{}},
		{"set-ciphers/TLS-1.2-only list keeps the TLS 1.3 suites (client)", "default", trusted(map[string]any{"ciphers": "AES256-SHA", "maxVersion": "TLSv1.3"}), parity.ClientSpec{}},
		{"set-ciphers/TLS-1.2-only list keeps the TLS 1.3 suites (server)", "AES256-SHA/1.3", trusted(map[string]any{"maxVersion": "TLSv1.3"}), parity.ClientSpec{}},
		{"set-ciphers/CCM_8 not enabled by default", "default", trusted(map[string]any{"ciphers": "TLS_AES_128_CCM_8_SHA256"}), parity.ClientSpec{}},
		{"set-ciphers/CCM_8 on both sides", "CCM8", trusted(map[string]any{"ciphers": "TLS_AES_128_CCM_8_SHA256"}), parity.ClientSpec{}},
		{"set-ciphers/':' is ERR_INVALID_ARG_VALUE", "default", trusted(map[string]any{"ciphers": ":"}), parity.ClientSpec{}},
		{"set-ciphers/'' means the default", "TLS_AES_256", trusted(map[string]any{"ciphers": ""}), parity.ClientSpec{}},
		// test-tls-set-ciphers-error: no cipher match.
		{"set-ciphers-error/lower-case name", "default", trusted(map[string]any{"ciphers": "aes256-sha"}), parity.ClientSpec{}},
		{"set-ciphers-error/unknown name", "default", trusted(map[string]any{"ciphers": "FOOBARBAZ"}), parity.ClientSpec{}},
		{"set-ciphers-error/bogus TLS_ name", "default", trusted(map[string]any{"ciphers": "TLS_not_a_cipher"}), parity.ClientSpec{}},
		// test-tls-getcipher: the server's order wins unless honorCipherOrder
		// is false; version is the cipher's minimum protocol.
		{"getcipher/server order", "honor", trusted(map[string]any{"ciphers": "AES128-SHA256:AES128-GCM-SHA256:AES256-SHA256"}), parity.ClientSpec{}},
		{"getcipher/client order with honorCipherOrder false", "client order", trusted(map[string]any{"ciphers": "AES128-SHA256:AES128-GCM-SHA256:AES256-SHA256"}), parity.ClientSpec{}},
		{"getcipher/TLS 1.3 standardName", "default", trusted(map[string]any{"ciphers": "TLS_CHACHA20_POLY1305_SHA256"}), parity.ClientSpec{}},
		// test-tls-min-max-version: versions and their error codes.
		{"min-max-version/defaults", "default", trusted(nil), parity.ClientSpec{}},
		{"min-max-version/SSLv2_method is ERR_TLS_INVALID_PROTOCOL_METHOD", "default", trusted(map[string]any{"secureProtocol": "SSLv2_method"}), parity.ClientSpec{}},
		{"min-max-version/SSLv3_method is ERR_TLS_INVALID_PROTOCOL_METHOD", "default", trusted(map[string]any{"secureProtocol": "SSLv3_method"}), parity.ClientSpec{}},
		{"min-max-version/hokey-pokey is ERR_TLS_INVALID_PROTOCOL_METHOD", "default", trusted(map[string]any{"secureProtocol": "hokey-pokey"}), parity.ClientSpec{}},
		{"min-max-version/maxVersion with secureProtocol conflicts", "default", trusted(map[string]any{"maxVersion": "TLSv1.2", "secureProtocol": "TLS1_2_method"}), parity.ClientSpec{}},
		{"min-max-version/minVersion with secureProtocol conflicts", "default", trusted(map[string]any{"minVersion": "TLSv1.2", "secureProtocol": "TLS1_2_method"}), parity.ClientSpec{}},
		{"min-max-version/unknown minVersion", "default", trusted(map[string]any{"minVersion": "TLSv0"}), parity.ClientSpec{}},
		{"min-max-version/unknown maxVersion", "default", trusted(map[string]any{"maxVersion": "TLSv1.4"}), parity.ClientSpec{}},
		{"min-max-version/TLSv1_2_method against TLS_method", "TLS_method", trusted(map[string]any{"secureProtocol": "TLSv1_2_method"}), parity.ClientSpec{}},
		{"min-max-version/TLSv1_1_method against TLS_method at SECLEVEL 0", "TLS_method", trusted(map[string]any{"secureProtocol": "TLSv1_1_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLSv1_method against TLS_method at SECLEVEL 0", "TLS_method", trusted(map[string]any{"secureProtocol": "TLSv1_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLS_method against TLSv1_2_method", "TLSv1_2_method", trusted(map[string]any{"secureProtocol": "TLS_method"}), parity.ClientSpec{}},
		{"min-max-version/TLS_method against TLSv1_1_method at SECLEVEL 0", "TLSv1_1_method", trusted(map[string]any{"secureProtocol": "TLS_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLS_method against TLSv1_method at SECLEVEL 0", "TLSv1_method", trusted(map[string]any{"secureProtocol": "TLS_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLS_method against TLSv1_method at SECLEVEL 1", "TLSv1_method", trusted(map[string]any{"secureProtocol": "TLS_method", "ciphers": "DEFAULT:@SECLEVEL=1"}), parity.ClientSpec{}},
		{"min-max-version/TLSv1_2_method against SSLv23_method", "SSLv23_method", trusted(map[string]any{"secureProtocol": "TLSv1_2_method"}), parity.ClientSpec{}},
		{"min-max-version/TLSv1_1_method against SSLv23_method", "SSLv23_method", trusted(map[string]any{"secureProtocol": "TLSv1_1_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/SSLv23_method against TLSv1_1_method", "TLSv1_1_method", trusted(map[string]any{"secureProtocol": "SSLv23_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLSv1_1_method against the default", "default", trusted(map[string]any{"secureProtocol": "TLSv1_1_method", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/default against TLSv1_method", "TLSv1_method", trusted(nil), parity.ClientSpec{}},
		{"min-max-version/TLSv1..TLSv1.2 against TLSv1_method", "TLSv1_method", trusted(map[string]any{"minVersion": "TLSv1", "maxVersion": "TLSv1.2", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLSv1..TLSv1.2 against TLSv1_1_method", "TLSv1_1_method", trusted(map[string]any{"minVersion": "TLSv1", "maxVersion": "TLSv1.2", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLSv1..TLSv1.2 against TLSv1..TLSv1.1", "TLSv1-TLSv1.1", trusted(map[string]any{"minVersion": "TLSv1", "maxVersion": "TLSv1.2", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/TLSv1.1 only against TLSv1..TLSv1.1", "TLSv1-TLSv1.1", trusted(map[string]any{"minVersion": "TLSv1.1", "maxVersion": "TLSv1.1", "ciphers": lowSec}), parity.ClientSpec{}},
		{"min-max-version/minVersion TLSv1.3 against maxVersion TLSv1.2", "max 1.2", trusted(map[string]any{"minVersion": "TLSv1.3"}), parity.ClientSpec{}},
		{"min-max-version/maxVersion TLSv1.2 against minVersion TLSv1.3", "min 1.3", trusted(map[string]any{"maxVersion": "TLSv1.2"}), parity.ClientSpec{}},
		// test-tls-getprotocol: per secureProtocol, null at 'end'.
		{"getprotocol/TLSv1_method", "TLS_method", trusted(map[string]any{"secureProtocol": "TLSv1_method", "ciphers": lowSec}), parity.ClientSpec{Events: []string{"end"}}},
		{"getprotocol/TLSv1_1_method", "TLS_method", trusted(map[string]any{"secureProtocol": "TLSv1_1_method", "ciphers": lowSec}), parity.ClientSpec{Events: []string{"end"}}},
		{"getprotocol/TLSv1_2_method", "TLS_method", trusted(map[string]any{"secureProtocol": "TLSv1_2_method"}), parity.ClientSpec{Events: []string{"end"}}},
		{"getprotocol/TLSv1.3", "default", trusted(nil), parity.ClientSpec{Events: []string{"end"}}},
		// test-tls-client-getephemeralkeyinfo.
		{"client-getephemeralkeyinfo/RSA key exchange is {}", "NOT_PFS", loose(nil), ekInfo},
		{"client-getephemeralkeyinfo/DH 1024 at SECLEVEL 1", "DH1024", loose(map[string]any{"ciphers": "DEFAULT:@SECLEVEL=1"}), ekInfo},
		{"client-getephemeralkeyinfo/DH 2048", "DH2048", loose(nil), ekInfo},
		{"client-getephemeralkeyinfo/ECDH default curve", "ECDH", loose(nil), ekInfo},
		{"client-getephemeralkeyinfo/ECDH secp521r1", "ECDH secp521r1", loose(nil), ekInfo},
		{"client-getephemeralkeyinfo/TLS 1.3 X25519", "default", loose(nil), ekInfo},
		// test-tls-client-mindhsize.
		{"client-mindhsize/2048 against DH 1024 is ERR_TLS_DH_PARAM_SIZE", "DH1024", loose(map[string]any{"minDHSize": 2048, "ciphers": "DEFAULT:@SECLEVEL=1"}), parity.ClientSpec{}},
		{"client-mindhsize/2048 against DH 2048", "DH2048", loose(map[string]any{"minDHSize": 2048}), ekInfo},
		{"client-mindhsize/default 1024 against DH 1024 at SECLEVEL 1", "DH1024", loose(map[string]any{"ciphers": "DEFAULT:@SECLEVEL=1"}), ekInfo},
		{"client-mindhsize/DH 1024 at SECLEVEL 2 is dh key too small", "DH1024", loose(map[string]any{"ciphers": "DEFAULT:@SECLEVEL=2"}), parity.ClientSpec{}},
		{"client-mindhsize/negative minDHSize", "default", loose(map[string]any{"minDHSize": -1}), parity.ClientSpec{}},
		// test-tls-dhe: DHE with 1024/2048-bit parameters, ECDHE fallback
		// when the server's dhparam is unusable.
		{"dhe/1024 at SECLEVEL 1", "dhe 1024", loose(map[string]any{"ciphers": "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:@SECLEVEL=1"}), ekInfo},
		{"dhe/2048", "dhe 2048", loose(map[string]any{"ciphers": "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"}), ekInfo},
		{"dhe/bad dhparam falls back to ECDHE", "dhe error", loose(map[string]any{"ciphers": "DHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"}), ekInfo},
		{"dhe/client dhparam of 512 bits throws", "default", loose(map[string]any{"dhparam": dhParams(t, "512")}), parity.ClientSpec{}},
		// test-tls-ecdh-multiple: a colon list of curves; unsupported ones throw.
		{"ecdh-multiple/server list, TLS 1.2", "ecdh multiple", loose(map[string]any{"ciphers": "-ALL:ECDHE-RSA-AES128-SHA256", "maxVersion": "TLSv1.2"}), ekInfo},
		{"ecdh-multiple/client secp521r1", "ecdh multiple", loose(map[string]any{"ecdhCurve": "secp521r1"}), ekInfo},
		{"ecdh-multiple/client list", "ecdh multiple", loose(map[string]any{"ecdhCurve": "secp256k1:prime256v1:secp521r1"}), ekInfo},
		{"ecdh-multiple/no shared group", "ecdh X25519", loose(map[string]any{"ecdhCurve": "P-384"}), parity.ClientSpec{}},
		{"ecdh-multiple/unsupported wap-wsg-idm-ecid-wtls1", "default", loose(map[string]any{"ecdhCurve": "wap-wsg-idm-ecid-wtls1"}), parity.ClientSpec{}},
		{"ecdh-multiple/unsupported c2pnb163v1", "default", loose(map[string]any{"ecdhCurve": "c2pnb163v1"}), parity.ClientSpec{}},
		{"ecdh-multiple/unsupported prime192v3", "default", loose(map[string]any{"ecdhCurve": "prime192v3"}), parity.ClientSpec{}},
		// ALPN, client side (test-tls-alpn-server-client).
		{"alpn/server preference wins", "alpn", trusted(map[string]any{"ALPNProtocols": []string{"http/1.1", "h2"}}), parity.ClientSpec{}},
		{"alpn/single common protocol", "alpn", trusted(map[string]any{"ALPNProtocols": []string{"a", "http/1.1"}}), parity.ClientSpec{}},
		{"alpn/no overlap is ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL", "alpn", trusted(map[string]any{"ALPNProtocols": []string{"spdy/1"}}), parity.ClientSpec{}},
		{"alpn/client without ALPN", "alpn", trusted(nil), parity.ClientSpec{}},
		{"alpn/a protocol of 255 bytes", "alpn", trusted(map[string]any{"ALPNProtocols": []string{strings.Repeat("x", 255)}}), parity.ClientSpec{}},
		{"alpn/a protocol of 256 bytes throws ERR_OUT_OF_RANGE", "alpn", trusted(map[string]any{"ALPNProtocols": []string{"a", strings.Repeat("é", 128)}}), parity.ClientSpec{}},
		{"alpn/server without ALPN", "default", trusted(map[string]any{"ALPNProtocols": []string{"h2"}}), parity.ClientSpec{}},
		{"alpn/TLS 1.2", "alpn", trusted(map[string]any{"ALPNProtocols": []string{"http/1.1"}, "maxVersion": "TLSv1.2"}), parity.ClientSpec{}},
		// An EC server certificate (test-tls-no-rsa-key seen from the client).
		{"no-rsa-key/EC server certificate", "ec", trusted(nil), ekInfo},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			port, ok := ports[c.server]
			if !assert.True(t, ok, "no server %q", c.server) {
				return
			}
			runClientParity(t, port, c.opts, c.spec)
		})
	}
}

// test-tls-set-sigalgs: the client's sigalgs against a node server that
// requires a client certificate; the shared list on both sides, or the error
// codes when there is none.
func TestParityClientSigalgs(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	client := root.Leaf(t, testpki.Options{ClientAuth: true}, "client")
	servers := map[string]string{"RSA-PSS+SHA384": "RSA-PSS+SHA384", "pss256+ecdsa256": "RSA-PSS+SHA256:ECDSA+SHA256",
		"ECDSA+SHA256": "ECDSA+SHA256", "ecdsa384+pss256": "ECDSA+SHA384:RSA-PSS+SHA256"}
	type srv struct {
		port int
		get  func() []parity.Line
	}
	started := map[string]srv{}
	for name, sig := range servers {
		spec := parity.ServerSpec{Options: map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM),
			"ca": str(root.CertPEM), "requestCert": true, "rejectUnauthorized": true, "sigalgs": sig},
			Report: []string{"sharedSigalgs"}}
		p, get := parity.StartNodeServer(t, spec)
		started[name] = srv{p, get}
	}
	cases := []struct{ name, client, server string }{
		{"set-sigalgs/RSA-PSS+SHA384 both", "RSA-PSS+SHA384", "RSA-PSS+SHA384"},
		{"set-sigalgs/two shared of three", "RSA-PSS+SHA256:RSA-PSS+SHA512:ECDSA+SHA256", "pss256+ecdsa256"},
		{"set-sigalgs/none shared", "RSA-PSS+SHA384", "ECDSA+SHA256"},
		{"set-sigalgs/none shared, two lists", "RSA-PSS+SHA384:ECDSA+SHA256", "ecdsa384+pss256"},
		{"set-sigalgs/invalid client list throws", "RSA-PSS+SHA999", "RSA-PSS+SHA384"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := started[c.server]
			opts := map[string]any{"ca": str(root.CertPEM), "servername": "localhost", "key": str(client.KeyPEM),
				"cert": str(client.CertPEM), "sigalgs": c.client}
			srvLines := 1
			if c.client == "RSA-PSS+SHA999" {
				srvLines = 0 // thrown before connecting
			}
			runClientParityServer(t, s.port, s.get, srvLines, opts, parity.ClientSpec{Extra: []string{"sharedSigalgs"}})
		})
	}
}

// test-tls-reduced-SECLEVEL-in-cipher, client side: the ciphers option is
// applied before the key and certificate, so "@SECLEVEL=N" decides whether
// a small client key loads. Each case names its level explicitly (node's
// default is 1, the system's 2); the node server asks for the certificate.
func TestParityClientReducedSeclevel(t *testing.T) {
	root := testpki.NewCA(t, testpki.Options{})
	leaf := root.Leaf(t, testpki.Options{}, "localhost")
	key512, cert512 := rsaLeaf(t, root, 512, "small.client")
	key1024, cert1024 := rsaLeaf(t, root, 1024, "medium.client")
	port, get := parity.StartNodeServer(t, parity.ServerSpec{Options: map[string]any{"key": str(leaf.KeyPEM), "cert": str(leaf.ChainPEM),
		"ca": str(root.CertPEM), "requestCert": true, "rejectUnauthorized": false, "ciphers": "DEFAULT:@SECLEVEL=0"}})
	cases := []struct {
		name, key, cert, ciphers, maxVersion string
		srvLines                             int
	}{
		{"reduced-SECLEVEL-in-cipher/512-bit key at SECLEVEL 1: key too small", key512, cert512, "DEFAULT:@SECLEVEL=1", "TLSv1.3", 0},
		{"reduced-SECLEVEL-in-cipher/512-bit key at SECLEVEL 0 loads (too small for RSA-PSS: not sent on TLS 1.3)", key512, cert512, "DEFAULT:@SECLEVEL=0", "TLSv1.3", 1},
		{"reduced-SECLEVEL-in-cipher/512-bit key at SECLEVEL 0, TLS 1.2", key512, cert512, "DEFAULT:@SECLEVEL=0", "TLSv1.2", 1},
		{"reduced-SECLEVEL-in-cipher/1024-bit key at SECLEVEL 2: key too small", key1024, cert1024, "DEFAULT:@SECLEVEL=2", "TLSv1.3", 0},
		{"reduced-SECLEVEL-in-cipher/1024-bit key at SECLEVEL 1 loads", key1024, cert1024, "DEFAULT:@SECLEVEL=1", "TLSv1.3", 1},
		{"reduced-SECLEVEL-in-cipher/DEFAULT@SECLEVEL=0 form", key512, cert512, "DEFAULT@SECLEVEL=0", "TLSv1.3", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runClientParityServer(t, port, get, c.srvLines, map[string]any{"ca": str(root.CertPEM), "servername": "localhost",
				"key": c.key, "cert": c.cert, "ciphers": c.ciphers, "maxVersion": c.maxVersion}, parity.ClientSpec{})
		})
	}
}
