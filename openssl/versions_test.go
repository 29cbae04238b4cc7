package openssl_test

import (
	"testing"

	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// legacyCiphers lets TLS 1.0 and 1.1 run on OpenSSL 3: their PRF and
// signatures (MD5/SHA-1) are allowed only at security level 0.
const legacyCiphers = "DEFAULT@SECLEVEL=0"

var allVersions = []struct {
	name string
	v    openssl.ProtocolVersion
}{{"TLSv1", openssl.TLS1}, {"TLSv1.1", openssl.TLS1_1}, {"TLSv1.2", openssl.TLS1_2}, {"TLSv1.3", openssl.TLS1_3}}

// Each version is negotiated when either side caps the range at it.
func TestProtocolVersions(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{})
	wide := openssl.ContextOptions{MinVersion: openssl.TLS1, MaxVersion: openssl.TLS1_3, CipherList: openssl.String(legacyCiphers)}
	for _, v := range allVersions {
		capped := wide
		capped.MaxVersion = v.v
		for _, side := range []string{"client caps", "server caps"} {
			for _, tr := range transports {
				t.Run(v.name+"/"+side+"/"+tr, func(t *testing.T) {
					sopts, copts := wide, capped
					if side == "server caps" {
						sopts, copts = capped, wide
					}
					a, b := rawPair(t, tr)
					srv, cli, serr, cerr := handshakePair(t, a, b, serverContext(t, leaf, sopts), clientContext(t, leaf.CAPEM, copts),
						openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
					require.NoError(t, serr)
					require.NoError(t, cerr)
					closeBothAtEnd(t, srv, cli)
					for _, c := range []*openssl.Conn{srv, cli} {
						assert.Equal(t, v.name, c.Version())
						assert.Equal(t, v.v, c.ProtocolVersion())
					}
					sc, ok := srv.Cipher()
					require.True(t, ok)
					cc, ok := cli.Cipher()
					require.True(t, ok)
					assert.Equal(t, sc, cc)
					assert.NotEmpty(t, cc.StandardName)
					if v.v == openssl.TLS1_3 {
						assert.Equal(t, "TLSv1.3", cc.Version)
					} else {
						assert.NotEqual(t, "TLSv1.3", cc.Version)
					}
					echoOnce(t, srv, cli)
				})
			}
		}
	}
}

// Without TLS 1.0 and 1.1 at the default security level, a client limited to
// them gets no handshake.
func TestLegacyVersionsNeedSeclevel0(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{})
	sctx := serverContext(t, leaf, openssl.ContextOptions{MinVersion: openssl.TLS1, CipherList: openssl.String(legacyCiphers)})
	cctx := clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: openssl.TLS1_1})
	_, _, serr, cerr := tcpPair(t, sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{})
	require.Error(t, cerr)
	require.Error(t, serr)
	var oe *openssl.Error
	require.ErrorAs(t, cerr, &oe)
	// The server (level 0) signs its key exchange with MD5+SHA-1, which the
	// client at the default level refuses (TestInteropLegacyVersions checks
	// s_client says the same).
	assert.Equal(t, "legacy sigalg disallowed or unsupported", oe.Reason)
}

// Version ranges that do not overlap: the server refuses ("unsupported
// protocol") and the client sees its protocol_version alert.
func TestProtocolVersionMismatch(t *testing.T) {
	_, leaf := newPKI(t, testpki.Options{})
	cases := []struct {
		name       string
		sopt, copt openssl.ContextOptions
	}{
		{"server 1.3 only, client up to 1.2", openssl.ContextOptions{MinVersion: openssl.TLS1_3}, openssl.ContextOptions{MaxVersion: openssl.TLS1_2}},
		{"server up to 1.2, client 1.3 only", openssl.ContextOptions{MaxVersion: openssl.TLS1_2}, openssl.ContextOptions{MinVersion: openssl.TLS1_3}},
		{"server 1.2 only, client 1.0-1.1", openssl.ContextOptions{MinVersion: openssl.TLS1_2, MaxVersion: openssl.TLS1_2, CipherList: openssl.String(legacyCiphers)},
			openssl.ContextOptions{MinVersion: openssl.TLS1, MaxVersion: openssl.TLS1_1, CipherList: openssl.String(legacyCiphers)}},
	}
	for _, c := range cases {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr, func(t *testing.T) {
				a, b := rawPair(t, tr)
				_, _, serr, cerr := handshakePair(t, a, b, serverContext(t, leaf, c.sopt), clientContext(t, leaf.CAPEM, c.copt),
					openssl.ConnConfig{}, openssl.ConnConfig{})
				var se, ce *openssl.Error
				require.ErrorAs(t, serr, &se)
				require.ErrorAs(t, cerr, &ce)
				assert.Equal(t, "unsupported protocol", se.Reason)
				assert.Equal(t, "tlsv1 alert protocol version", ce.Reason)
			})
		}
	}
}
