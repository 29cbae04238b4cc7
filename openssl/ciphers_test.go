package openssl

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opensslCiphers runs `openssl ciphers args...` and returns stdout, stderr and
// the exit status.
func opensslCiphers(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command("openssl", append([]string{"ciphers"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "the openssl CLI is a test prerequisite (.ci/run installs it): %v", err)
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	return stdout.String(), stderr.String(), 0
}

// cliArgs is the `openssl ciphers` command line equivalent to q.
func cliArgs(q CipherQuery) []string {
	var args []string
	if q.SupportedOnly {
		args = append(args, "-s")
	}
	if q.PSK {
		args = append(args, "-psk")
	}
	if q.SRP {
		args = append(args, "-srp")
	}
	if q.MinVersion != 0 {
		// The CLI sets both bounds to one version; the queries here do too.
		args = append(args, map[ProtocolVersion]string{TLS1: "-tls1", TLS1_1: "-tls1_1", TLS1_2: "-tls1_2", TLS1_3: "-tls1_3"}[q.MinVersion])
	}
	if q.Ciphersuites != nil {
		args = append(args, "-ciphersuites", *q.Ciphersuites)
	}
	if q.CipherList != nil {
		args = append(args, *q.CipherList)
	}
	return args
}

// cliCipher is one line of `openssl ciphers -V -stdname`.
type cliCipher struct {
	id          uint32
	stdname     string
	description string // with its newline
	fields      []string
}

var idPart = regexp.MustCompile(`^\s*0x([0-9A-F]{2}),0x([0-9A-F]{2})(?:,0x([0-9A-F]{2}),0x([0-9A-F]{2}))?$`)

func parseCLIVerbose(t *testing.T, out string) []cliCipher {
	t.Helper()
	var list []cliCipher
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, " - ", 3)
		require.Len(t, parts, 3, "line %q", line)
		m := idPart.FindStringSubmatch(parts[0])
		require.NotNil(t, m, "id of %q", line)
		var id uint32
		if m[3] == "" {
			id = 0x03000000 | hexByte(t, m[1])<<8 | hexByte(t, m[2])
		} else {
			id = hexByte(t, m[1])<<24 | hexByte(t, m[2])<<16 | hexByte(t, m[3])<<8 | hexByte(t, m[4])
		}
		list = append(list, cliCipher{id: id, stdname: strings.TrimSpace(parts[1]), description: parts[2], fields: strings.Fields(parts[2])})
	}
	return list
}

func hexByte(t *testing.T, s string) uint32 {
	v, err := strconv.ParseUint(s, 16, 8)
	require.NoError(t, err)
	return uint32(v)
}

// assertMatchesCLI checks every field of got against the CLI's view of the same cipher.
func assertMatchesCLI(t *testing.T, want cliCipher, got Cipher) {
	t.Helper()
	assert.Equal(t, want.id, got.ID)
	assert.Equal(t, uint16(want.id&0xffff), got.ProtocolID)
	assert.Equal(t, want.description, got.Description)
	std := got.StandardName
	if std == "" {
		std = "UNKNOWN"
	}
	assert.Equal(t, want.stdname, std)
	require.Len(t, want.fields, 6, want.description)
	assert.Equal(t, want.fields[0], got.Name)
	// The description names TLS 1.0 "TLSv1"; SSL_CIPHER_get_version names it
	// "TLSv1.0". Every other version reads the same in both.
	wantVersion := want.fields[1]
	if wantVersion == "TLSv1" {
		wantVersion = "TLSv1.0"
	}
	assert.Equal(t, wantVersion, got.Version)
	assert.Equal(t, want.fields[2], "Kx="+got.Kx)
	assert.Equal(t, want.fields[3], "Au="+got.Au)
	assert.Equal(t, want.fields[4], "Enc="+got.Enc)
	assert.Equal(t, want.fields[5], "Mac="+got.Mac)
	// Enc shows the algorithm's key size in parentheses, e.g. AESGCM(256).
	if i := strings.LastIndexByte(got.Enc, '('); i >= 0 {
		assert.Equal(t, got.Enc[i:], fmt.Sprintf("(%d)", got.AlgBits), got.Name)
	}
	assert.LessOrEqual(t, got.Bits, got.AlgBits, got.Name)
	assert.Equal(t, got.Mac == "AEAD", got.AEAD, got.Name)
}

func TestResolveCiphersMatchesOpenSSLCLI(t *testing.T) {
	tests := []CipherQuery{
		{},
		{SupportedOnly: true},
		{CipherList: new("HIGH")},
		{CipherList: new("ALL:COMPLEMENTOFALL:@SECLEVEL=0"), SupportedOnly: true},
		{CipherList: new("ALL:@STRENGTH")},
		{CipherList: new("PSK"), SupportedOnly: true},
		{CipherList: new("PSK"), SupportedOnly: true, PSK: true},
		{CipherList: new("SRP"), SupportedOnly: true, SRP: true},
		{CipherList: new("ALL:@SECLEVEL=0"), SupportedOnly: true, MinVersion: TLS1, MaxVersion: TLS1},
		{SupportedOnly: true, MinVersion: TLS1_3, MaxVersion: TLS1_3},
		{Ciphersuites: new("TLS_AES_128_CCM_8_SHA256:TLS_AES_128_GCM_SHA256"), CipherList: new("AESGCM+ECDSA")},
		{Ciphersuites: new(""), CipherList: new("CAMELLIA:ARIA:@SECLEVEL=0")},
		{Ciphersuites: new(""), CipherList: new("eNULL:@SECLEVEL=0"), SupportedOnly: true},
	}
	for _, q := range tests {
		args := append([]string{"-V", "-stdname"}, cliArgs(q)...)
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, stderr, code := opensslCiphers(t, args...)
			require.Equal(t, 0, code, stderr)
			want := parseCLIVerbose(t, out)
			got, err := ResolveCiphers(q)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				assertMatchesCLI(t, want[i], got[i])
			}
		})
	}
}

func TestResolveCiphersEmptySupportedList(t *testing.T) {
	// TLSv1 only, at a level that forbids TLSv1: OpenSSL supports nothing.
	q := CipherQuery{CipherList: new("ALL:@SECLEVEL=3"), SupportedOnly: true, MinVersion: TLS1, MaxVersion: TLS1}
	out, stderr, code := opensslCiphers(t, cliArgs(q)...)
	require.Equal(t, 0, code, stderr)
	got, err := ResolveCiphers(q)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSuffix(out, "\n"), strings.Join(cipherNames(got), ":"))
}

func cipherNames(cs []Cipher) []string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return names
}

func TestResolveCiphersSecurityLevel(t *testing.T) {
	for level := 0; level <= 5; level++ {
		t.Run(strconv.Itoa(level), func(t *testing.T) {
			// The level field acts as @SECLEVEL on OpenSSL's default list.
			out, stderr, code := opensslCiphers(t, "-s", fmt.Sprintf("DEFAULT:@SECLEVEL=%d", level))
			require.Equal(t, 0, code, stderr)
			got, err := ResolveCiphers(CipherQuery{SecurityLevel: new(level), SupportedOnly: true})
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSuffix(out, "\n"), strings.Join(cipherNames(got), ":"))

			// @SECLEVEL inside the string wins over the field.
			out, stderr, code = opensslCiphers(t, "-s", "ALL:@SECLEVEL=1")
			require.Equal(t, 0, code, stderr)
			got, err = ResolveCiphers(CipherQuery{SecurityLevel: new(level), CipherList: new("ALL:@SECLEVEL=1"), SupportedOnly: true})
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSuffix(out, "\n"), strings.Join(cipherNames(got), ":"))
		})
	}
	for _, bad := range []int{-1, 6} {
		_, err := ResolveCiphers(CipherQuery{SecurityLevel: new(bad)})
		var oe *Error
		require.ErrorAs(t, err, &oe, "level %d", bad)
	}
}

// cliErrorReason is the reason field of the ERR_print_errors line the CLI printed.
func cliErrorReason(t *testing.T, stderr string) (fn, reason string) {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		// TID:error:CODE:library:function:reason:file:line:data
		f := strings.Split(line, ":")
		if len(f) >= 6 && f[1] == "error" {
			return f[4], f[5]
		}
	}
	t.Fatalf("no error line in %q", stderr)
	return "", ""
}

func TestResolveCiphersErrors(t *testing.T) {
	tests := []struct {
		q  CipherQuery
		op string
	}{
		{CipherQuery{CipherList: new("FOO")}, "SSL_CTX_set_cipher_list"},
		{CipherQuery{CipherList: new("")}, "SSL_CTX_set_cipher_list"},
		{CipherQuery{CipherList: new(":")}, "SSL_CTX_set_cipher_list"},
		{CipherQuery{CipherList: new("TLS_AES_128_GCM_SHA256")}, "SSL_CTX_set_cipher_list"},
		{CipherQuery{CipherList: new("HIGH:@SECLEVEL=6")}, "SSL_CTX_set_cipher_list"},
		{CipherQuery{Ciphersuites: new("bogus")}, "SSL_CTX_set_ciphersuites"},
		{CipherQuery{Ciphersuites: new("ECDHE-RSA-AES128-GCM-SHA256")}, "SSL_CTX_set_ciphersuites"},
	}
	for _, tt := range tests {
		args := cliArgs(tt.q)
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, stderr, code := opensslCiphers(t, args...)
			require.Equal(t, 1, code)
			wantFn, wantReason := cliErrorReason(t, stderr)

			_, err := ResolveCiphers(tt.q)
			var oe *Error
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.op, oe.Op)
			assert.Equal(t, wantReason, oe.Reason)
			assert.Equal(t, "SSL routines", oe.Library)
			require.NotEmpty(t, oe.Queue)
			assert.Equal(t, wantFn, oe.Queue[0].Func)
			assert.True(t, errors.Is(err, &Error{Reason: wantReason}))
		})
	}

	// The reason the issue names, checked by its text.
	_, err := ResolveCiphers(CipherQuery{CipherList: new("FOO")})
	var oe *Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "no cipher match", oe.Reason)
	assert.Equal(t, "error:0A0000B9:SSL routines::no cipher match", oe.Text())

	// A NUL byte cannot reach OpenSSL; it is refused, not truncated.
	_, err = ResolveCiphers(CipherQuery{CipherList: new("HIGH\x00FOO")})
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "SSL_CTX_set_cipher_list", oe.Op)

	// An unknown protocol version is OpenSSL's refusal, reported as an error.
	_, err = ResolveCiphers(CipherQuery{MinVersion: 0x0399})
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "SSL_CTX_set_min_proto_version", oe.Op)
}

func TestResolveCiphersFreesEverything(t *testing.T) {
	before := cbridge.LiveObjects()
	queries := []CipherQuery{
		{}, {SupportedOnly: true}, {CipherList: new("FOO")}, {Ciphersuites: new("bogus")},
		{PSK: true, SRP: true, SupportedOnly: true}, {MinVersion: 0x0399}, {MaxVersion: 0x0399},
		{CipherList: new("ALL:@SECLEVEL=3"), SupportedOnly: true, MinVersion: TLS1, MaxVersion: TLS1},
	}
	for range 50 {
		for _, q := range queries {
			_, _ = ResolveCiphers(q)
		}
	}
	after := cbridge.LiveObjects()
	assert.Equal(t, before.SSL, after.SSL)
	assert.Equal(t, before.SSLCtx, after.SSLCtx)
	assert.Equal(t, before, after)
}

func TestConvertStandardNameMatchesCLI(t *testing.T) {
	for _, std := range []string{
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA",
		"TLS_PSK_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-GCM-SHA256", "", "nonsense",
	} {
		out, _, code := opensslCiphers(t, "-convert", std)
		require.Equal(t, 0, code)
		want := strings.TrimSuffix(strings.TrimPrefix(out, "OpenSSL cipher name: "), "\n")
		name, ok := ConvertStandardName(std)
		if want == "(NONE)" {
			assert.False(t, ok, std)
			assert.Empty(t, name, std)
		} else {
			assert.True(t, ok, std)
			assert.Equal(t, want, name, std)
		}
	}
}

func TestCipherByNameMatchesCLI(t *testing.T) {
	out, stderr, code := opensslCiphers(t, "-V", "-stdname", "-ciphersuites", tls13Suites, "ALL:COMPLEMENTOFALL:@SECLEVEL=0")
	require.Equal(t, 0, code, stderr)
	want := parseCLIVerbose(t, out)
	require.NotEmpty(t, want)
	for _, w := range want {
		name := w.fields[0]
		c, ok := CipherByName(name)
		require.True(t, ok, name)
		assertMatchesCLI(t, w, c)
		if w.stdname != "UNKNOWN" {
			byStd, ok := CipherByName(w.stdname)
			require.True(t, ok, w.stdname)
			assert.Equal(t, c, byStd)
		}
	}
	_, ok := CipherByName("NO-SUCH-CIPHER")
	assert.False(t, ok)
	_, ok = CipherByName("")
	assert.False(t, ok)
}
