package main

import (
	"bytes"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nodeDefaultCiphers is tls.DEFAULT_CIPHERS of Node 20 on OpenSSL 3.0
// (shared/reference/node-tls.md §1.1).
const nodeDefaultCiphers = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" +
	"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:" +
	"ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-SHA256:" +
	"ECDHE-RSA-AES256-SHA384:DHE-RSA-AES256-SHA384:ECDHE-RSA-AES256-SHA256:DHE-RSA-AES256-SHA256:" +
	"HIGH:!aNULL:!eNULL:!EXPORT:!DES:!RC4:!MD5:!PSK:!SRP:!CAMELLIA"

type runResult struct {
	stdout, stderr []byte
	code           int
}

func runCmd(t *testing.T, name string, args ...string) runResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "running %s %q: %v", name, args, err)
		code = ee.ExitCode()
	}
	return runResult{stdout.Bytes(), stderr.Bytes(), code}
}

// errLinePrefix matches what may differ between two ERR_print_errors lines of
// the same error: the thread id at the start and OpenSSL's source file:line.
var (
	errLineTID  = regexp.MustCompile(`(?m)^[0-9A-F]+:error:`)
	errLineFile = regexp.MustCompile(`(?m):[^:\n]*\.c:[0-9]+:`)
)

func normaliseStderr(b []byte) string {
	s := errLineTID.ReplaceAllString(string(b), "TID:error:")
	return errLineFile.ReplaceAllString(s, ":FILE:LINE:")
}

// ciphersCorpus is the list of argument sets run through both commands.
func ciphersCorpus() [][]string {
	strs := []string{
		// whole lists and complements
		"ALL", "DEFAULT", "COMPLEMENTOFDEFAULT", "COMPLEMENTOFALL", "ALL:COMPLEMENTOFALL",
		"ALL:COMPLEMENTOFALL:@SECLEVEL=0", "DEFAULT:COMPLEMENTOFDEFAULT",
		// strength classes
		"HIGH", "MEDIUM", "LOW", "HIGH:MEDIUM:LOW", "NULL", "eNULL", "aNULL", "eNULL:@SECLEVEL=0",
		// key exchange and authentication aliases
		"kRSA", "aRSA", "aECDSA", "ECDSA", "RSA", "kECDHE", "ECDHE", "EECDH", "kDHE", "DHE", "kEDH", "EDH",
		"aDSS", "DSS", "ADH", "AECDH", "kECDHE+aRSA", "aNULL:@SECLEVEL=0",
		// PSK / SRP families
		"PSK", "kPSK", "aPSK", "ECDHEPSK", "DHEPSK", "RSAPSK", "kECDHEPSK", "kDHEPSK", "kRSAPSK", "SRP", "kSRP",
		// ciphers and MACs
		"AESGCM", "AESCCM", "AESCCM8", "AES128", "AES256", "AES", "CHACHA20", "CAMELLIA", "CAMELLIA128",
		"CAMELLIA256", "ARIA", "ARIAGCM", "SHA256", "SHA384", "SHA1", "SHA", "3DES", "DES", "RC4", "IDEA",
		"SEED", "MD5", "GOST89MAC",
		// protocol versions and suites
		"TLSv1.2", "TLSv1", "SSLv3", "TLSv1.0", "SUITEB128", "SUITEB192", "SUITEB128ONLY", "SUITEB128C2",
		// single names and explicit lists
		"ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA:AES256-SHA", "NULL-SHA", "NULL-SHA:@SECLEVEL=0",
		"DHE-RSA-AES256-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305", "PSK-AES128-CBC-SHA",
		// operators
		"HIGH:!aNULL:!MD5", "HIGH:-AES:+SHA", "ALL:+RSA", "AES+kRSA", "AESGCM+ECDSA",
		"ECDHE+AESGCM:ECDHE+CHACHA20", "ALL:-HIGH:HIGH", "DEFAULT:!ECDHE", "!ALL", "-ALL", "ALL:!ALL",
		"eNULL:!eNULL", "+HIGH", "-HIGH", "!HIGH:HIGH", "HIGH:!HIGH", "DEFAULT:-kRSA:+kRSA",
		"HIGH+AES128+SHA256", "ALL:!kRSA:!kDHE", "HIGH:!PSK:!SRP",
		// @STRENGTH and @SECLEVEL
		"ALL:@STRENGTH", "HIGH:@STRENGTH", "MEDIUM:HIGH:@STRENGTH", "@STRENGTH",
		"ALL:@SECLEVEL=0", "ALL:@SECLEVEL=1", "ALL:@SECLEVEL=2", "ALL:@SECLEVEL=3", "ALL:@SECLEVEL=4",
		"ALL:@SECLEVEL=5", "@SECLEVEL=1:ALL", "DEFAULT:@SECLEVEL=0", "@SECLEVEL=0", "@SECLEVEL=6",
		"@SECLEVEL=x", "@SECLEVEL=", "@SECLEVEL", "HIGH:@STRENGTHX", "HIGH:@FOO", "@STRENGTH:@SECLEVEL=1:HIGH",
		// separators and junk
		"", ":", "::", ",", " ", ";", "ALL,HIGH", "ALL HIGH", "ALL;HIGH", "HIGH:", ":HIGH", "FOO", "!FOO",
		"FOO:HIGH", "TLS_AES_128_GCM_SHA256", "high", "ALL:+", "!", "+", "-", "ECDHE-RSA-AES128-GCM-SHA256:FOO",
		// Node's default
		nodeDefaultCiphers,
	}
	flagSets := [][]string{nil, {"-v"}, {"-s"}, {"-V"}, {"-s", "-v"}, {"-stdname"}, {"-s", "-V"}, {"-s", "-stdname", "-V"}}
	var corpus [][]string
	for i, s := range strs {
		// Every string once plain and once with a rotating set of output and
		// selection flags.
		corpus = append(corpus, []string{s})
		fs := flagSets[1+i%(len(flagSets)-1)]
		corpus = append(corpus, append(append([]string{}, fs...), s))
	}
	extra := [][]string{
		{}, {"-v"}, {"-V"}, {"-s"}, {"-stdname"}, {"-s", "-V", "-stdname"},
		// protocol selection
		{"-tls1"}, {"-tls1_1"}, {"-tls1_2"}, {"-tls1_3"}, {"-s", "-tls1"}, {"-s", "-tls1_1"}, {"-s", "-tls1_2"},
		{"-s", "-tls1_3"}, {"-s", "-tls1", "ALL:@SECLEVEL=0"}, {"-s", "-tls1", "ALL:@SECLEVEL=3"},
		{"-s", "-tls1_2", "-V", "HIGH"}, {"-tls1_3", "-tls1", "-s"}, {"-s", "-tls1_3", "-stdname"},
		{"-s", "-tls1_1", "-v", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"},
		// PSK and SRP with and without their callbacks
		{"-s", "PSK"}, {"-s", "-psk", "PSK"}, {"-psk", "PSK"}, {"-s", "-psk", "-V", "kPSK"},
		{"-s", "-psk", "ECDHEPSK"}, {"-s", "ECDHEPSK"}, {"-s", "-psk"}, {"-s", "SRP"}, {"-s", "-srp", "SRP"},
		{"-srp", "SRP"}, {"-s", "-srp", "-v", "kSRP:@SECLEVEL=0"}, {"-s", "-psk", "-srp", "ALL"},
		{"-s", "-psk", "-tls1_2", nodeDefaultCiphers},
		// TLSv1.3 suites
		{"-ciphersuites", "TLS_AES_128_GCM_SHA256"}, {"-ciphersuites", "TLS_AES_128_CCM_8_SHA256:TLS_AES_128_CCM_SHA256", "-V"},
		{"-ciphersuites", ""}, {"-ciphersuites", "", "-s"}, {"-ciphersuites", "bogus"},
		{"-ciphersuites", "TLS_AES_128_GCM_SHA256:bogus"}, {"-ciphersuites", ":"}, {"-ciphersuites", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"-ciphersuites=TLS_CHACHA20_POLY1305_SHA256", "-v", "HIGH"}, {"-ciphersuites", "", "AES128-SHA"},
		{"-ciphersuites", "", ""}, {"-ciphersuites", "bogus", "FOO"}, {"-ciphersuites", "", "-tls1_3", "-s"},
		{"-s", "-stdname", "-ciphersuites", "TLS_AES_256_GCM_SHA384", nodeDefaultCiphers},
		// -convert
		{"-convert", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}, {"-convert", "TLS_AES_128_GCM_SHA256"},
		{"-convert", "ECDHE-RSA-AES128-GCM-SHA256"}, {"-convert", ""}, {"-convert=TLS_RSA_WITH_AES_128_CBC_SHA"},
		{"-convert", "TLS_PSK_WITH_AES_128_CBC_SHA", "HIGH"}, {"-convert", "x", "-v", "FOO"}, {"-convert", "a", "b", "c"},
		// option syntax
		{"-x"}, {"-"}, {"--"}, {"---"}, {"----"}, {"------"}, {"--v"}, {"--s", "--V", "HIGH"}, {"-v=1"}, {"-help=1"},
		{"-ciphersuites"}, {"-convert"}, {"HIGH", "LOW"}, {"HIGH", "-v"}, {"-V", "-s", "HIGH", "x"}, {"-h"},
		{"--help"}, {"-help"}, {"-h", "x", "y"}, {"-cipher", "HIGH"}, {"-cipher"}, {"-cipher", "-v"}, {"-cipher=x"},
		{"--", "HIGH"}, {"-v", "--", "-V"}, {"-S"}, {"-ssl3"}, {"-tls1_4"}, {"-V", "-v", "-s"}, {"----=x"},
		{"-propquery"}, {"-s", "-v", "-x", "HIGH"}, {"-stdname="},
		// property queries
		{"-propquery", "foo"}, {"-propquery", "provider=default", "-s", "HIGH"}, {"-propquery", "?fips=yes", "-s", "-v", "AESGCM"},
		{"-propquery="},
	}
	return append(corpus, extra...)
}

func TestCiphersCorpusMatchesOpenSSL(t *testing.T) {
	bin := buildNodetls(t)
	corpus := ciphersCorpus()
	require.GreaterOrEqual(t, len(corpus), 150)
	t.Logf("%d argument sets", len(corpus))
	for _, args := range corpus {
		want := runCmd(t, "openssl", append([]string{"ciphers"}, args...)...)
		got := runCmd(t, bin, append([]string{"ciphers"}, args...)...)
		assert.Equal(t, string(want.stdout), string(got.stdout), "stdout of ciphers %q", args)
		assert.Equal(t, want.code, got.code, "exit status of ciphers %q", args)
		assert.Equal(t, normaliseStderr(want.stderr), normaliseStderr(got.stderr), "stderr of ciphers %q", args)
	}
}

func TestCiphersErrorLinesHaveOpenSSLShape(t *testing.T) {
	bin := buildNodetls(t)
	got := runCmd(t, bin, "ciphers", "FOO")
	assert.Equal(t, 1, got.code)
	lines := strings.Split(strings.TrimSuffix(string(got.stderr), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Equal(t, "Error in cipher list", lines[0])
	// The thread id is hex, as ERR_print_errors prints it.
	assert.Regexp(t, `^[0-9A-F]{8,}:error:0A0000B9:SSL routines:SSL_CTX_set_cipher_list:no cipher match:`, lines[1])
}

func TestCiphersProviderOptionsAreRefused(t *testing.T) {
	bin := buildNodetls(t)
	for _, opt := range []string{"-provider", "-provider-path"} {
		got := runCmd(t, bin, "ciphers", opt, "default")
		assert.Equal(t, 1, got.code, opt)
		assert.Empty(t, got.stdout, opt)
		assert.Contains(t, string(got.stderr), "not supported", opt)
	}
}

func TestVerbDispatch(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run([]string{"nope"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage: nodetls")
	assert.Empty(t, stdout.String())

	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 2, run(nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "ciphers")

	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 0, run([]string{"help"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "ciphers")
}
