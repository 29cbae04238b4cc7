package openssl

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// opensslCLI runs the openssl command in dir and fails the test on error.
func opensslCLI(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "openssl %v: %s", args, out)
}

func TestParsePEMFromOpenSSLCLI(t *testing.T) {
	dir := t.TempDir()
	opensslCLI(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
		"-subj", "/CN=localhost", "-days", "1")
	opensslCLI(t, dir, "pkey", "-in", "key.pem", "-aes256", "-passout", "pass:secret", "-out", "enc.pem")
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "key.pem"))
	encPEM, _ := os.ReadFile(filepath.Join(dir, "enc.pem"))
	certPEM, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))

	k, err := ParsePrivateKeyPEM(keyPEM, nil)
	require.NoError(t, err)
	k.Free()

	k, err = ParsePrivateKeyPEM(encPEM, []byte("secret"))
	require.NoError(t, err)
	k.Free()

	for _, pass := range [][]byte{nil, []byte("wrong")} {
		_, err = ParsePrivateKeyPEM(encPEM, pass)
		var oe *Error
		require.ErrorAs(t, err, &oe)
		// OpenSSL's reason for the same input: "bad decrypt", except for the
		// rare wrong key whose decryption ends in valid padding.
		assert.Contains(t, cliKeyReasons(t, filepath.Join(dir, "enc.pem"), false, pass), oe.Reason)
		assert.True(t, errors.Is(err, &Error{Reason: oe.Reason}))
	}

	bundle := append(append([]byte("junk before\n"), certPEM...), certPEM...)
	certs, err := ParseCertificatesPEM(bundle)
	require.NoError(t, err)
	assert.Len(t, certs, 2)
	for _, c := range certs {
		c.Free()
	}

	_, err = ParseCertificatesPEM([]byte("garbage"))
	var oe *Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "no start line", oe.Reason)
	assert.Equal(t, "error:0480006C:PEM routines::no start line", oe.Text())
}
