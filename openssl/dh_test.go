package openssl

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliDHBits is the oracle for a parameter file's size: `openssl pkeyparam -text`
// prints "DH Parameters: (2048 bit)".
func cliDHBits(t *testing.T, p *pki, name string) int {
	t.Helper()
	out := cli(t, p.dir, "pkeyparam", "-in", name, "-noout", "-text")
	m := regexp.MustCompile(`\((\d+) bit\)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

func TestParseDHParamsPEM(t *testing.T) {
	p := newPKI(t)
	p.dhParams("ffdhe2048.pem", "DH", "group:ffdhe2048")
	p.dhParams("ffdhe3072.pem", "DH", "group:ffdhe3072")
	p.dhParams("dh512.pem", "DH", "dh_paramgen_prime_len:512")
	p.dhParams("dhx1024.pem", "DHX", "dh_paramgen_prime_len:1024")
	cli(t, p.dir, "dhparam", "-out", "dhparam512.pem", "512")

	tests := []struct {
		file, typ string
	}{
		{"ffdhe2048.pem", "DH"},
		{"ffdhe3072.pem", "DH"},
		{"dh512.pem", "DH"},
		{"dhparam512.pem", "DH"},
		{"dhx1024.pem", "DHX"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := ParseDHParamsPEM(p.read(tt.file))
			require.NoError(t, err)
			t.Cleanup(d.Free)
			assert.Equal(t, cliDHBits(t, p, tt.file), d.Bits())
			assert.Equal(t, tt.typ, d.Type())
		})
	}

	t.Run("garbage", func(t *testing.T) {
		p.write("garbage", []byte("garbage\n"))
		_, stderr, ok := cliResult(t, p.dir, "pkeyparam", "-in", "garbage", "-noout")
		require.False(t, ok)
		_, err := ParseDHParamsPEM(p.read("garbage"))
		assertSameAsCLI(t, err, stderr)
	})
	t.Run("EC parameters are not DH", func(t *testing.T) {
		cli(t, p.dir, "genpkey", "-genparam", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem")
		_, err := ParseDHParamsPEM(p.read("ec.pem"))
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "not DH parameters", oe.Reason)
	})
	t.Run("after Free", func(t *testing.T) {
		d, err := ParseDHParamsPEM(p.read("ffdhe2048.pem"))
		require.NoError(t, err)
		d.Free()
		d.Free()
		assert.Zero(t, d.Bits())
		c := newTestContext(t, ContextOptions{})
		assert.Error(t, c.SetDHParams(d))
	})
}

func TestContextDHParams(t *testing.T) {
	p := newPKI(t)
	p.selfSigned("rsa", "rsa:2048")
	p.dhParams("ffdhe2048.pem", "DH", "group:ffdhe2048")
	p.dhParams("modp1536.pem", "DH", "group:modp_1536")
	p.dhParams("dh512.pem", "DH", "dh_paramgen_prime_len:512")
	p.dhParams("dhx2048.pem", "DHX", "group:dh_2048_224")

	t.Run("PEM, parsed and auto", func(t *testing.T) {
		newTestContext(t, ContextOptions{DHParams: p.read("ffdhe2048.pem")})
		newTestContext(t, ContextOptions{DHParams: p.read("dhx2048.pem")})
		newTestContext(t, ContextOptions{DHParams: []byte("auto")})
		d, err := ParseDHParamsPEM(p.read("ffdhe2048.pem"))
		require.NoError(t, err)
		newTestContext(t, ContextOptions{DH: d})
		d.Free() // the context keeps its own reference
		c := newTestContext(t, ContextOptions{})
		require.NoError(t, c.SetDHAuto())
		require.NoError(t, c.SetDHParamsPEM(p.read("ffdhe2048.pem")))
	})

	t.Run("512 bits refused as Node refuses them", func(t *testing.T) {
		node := nodeCreateSecureContext(t, p.dir, map[string]string{"dhparam": "dh512.pem"})
		d, err := ParseDHParamsPEM(p.read("dh512.pem"))
		require.NoError(t, err)
		t.Cleanup(d.Free)
		assert.Equal(t, 512, d.Bits())
		c := newTestContext(t, ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=0")})
		assertSameError(t, c.SetDHParams(d), node)
		assertSameError(t, c.SetDHParamsPEM(p.read("dh512.pem")), node)
	})

	t.Run("weaker than the security level", func(t *testing.T) {
		stderr, ok := sServerResult(t, p.dir, "-cert", "rsa.pem", "-key", "rsa.key", "-dhparam", "modp1536.pem", "-cipher", "DEFAULT:@SECLEVEL=2")
		require.False(t, ok, "s_server refuses them")
		_, err := NewContext(ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=2"), DHParams: p.read("modp1536.pem")})
		assertSameAsCLI(t, err, stderr)
		// The level set by the cipher string comes first, so level 1 accepts them.
		newTestContext(t, ContextOptions{CipherList: String("DEFAULT:@SECLEVEL=1"), DHParams: p.read("modp1536.pem")})
	})

	t.Run("unparsable PEM is an error here", func(t *testing.T) {
		_, err := NewContext(ContextOptions{DHParams: []byte("garbage")})
		var oe *Error
		require.ErrorAs(t, err, &oe)
		assert.NotEmpty(t, oe.Reason)
	})
}
