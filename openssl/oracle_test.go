package openssl

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireTool fails the test when a peer binary is missing; outside CI (env CI
// unset) it skips instead, naming the binary.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("%s not found on PATH (CI installs it)", name)
		}
		t.Fatalf("%s is not installed: %v", name, err)
	}
}

// runTool runs a command in dir and returns stdout, stderr and the exit code.
func runTool(t *testing.T, dir, name string, args ...string) (string, string, int) {
	t.Helper()
	requireTool(t, name)
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "%s %v: %v", name, args, err)
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// nodeJSON runs a node script that prints JSON and decodes it into v.
func nodeJSON(t *testing.T, v any, script string, args ...string) {
	t.Helper()
	out, stderr, code := runTool(t, "", "node", append([]string{"-e", script}, args...)...)
	require.Equal(t, 0, code, "node: %s", stderr)
	require.NoError(t, json.Unmarshal([]byte(out), v), "node printed %q", out)
}

// openSSLErrorLine matches an error line of the openssl CLI:
// "80...:error:05800074:x509 certificate routines:X509_check_private_key:key values mismatch:file:line:".
var openSSLErrorLine = regexp.MustCompile(`error:([0-9A-F]{8}):([^:]*):([^:]*):([^:]*):`)

// cliErrors lists (code, reason) of the OpenSSL error lines in a CLI output.
func cliErrors(out string) [][2]string {
	var res [][2]string
	for _, m := range openSSLErrorLine.FindAllStringSubmatch(out, -1) {
		res = append(res, [2]string{m[1], m[4]})
	}
	return res
}

// readFile reads dir/name.
func readFile(dir, name string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, name)) }

// cliKeyReasons is the oracle for reading an encrypted key: the reasons of the
// error lines `openssl pkey` prints for the same file and passphrase. A wrong
// passphrase almost always gives "bad decrypt", but about one time in 256 the
// wrongly decrypted block ends in valid padding and OpenSSL fails later with
// another reason; the CLI then reports that same reason.
func cliKeyReasons(t *testing.T, path string, der bool, pass []byte) []string {
	t.Helper()
	args := []string{"pkey", "-in", path, "-noout", "-passin", "pass:" + string(pass)}
	if der {
		args = append(args, "-inform", "DER")
	}
	_, stderr, code := runTool(t, "", "openssl", args...)
	require.NotEqual(t, 0, code, "openssl pkey accepted the passphrase %q", pass)
	var reasons []string
	for _, e := range cliErrors(stderr) {
		reasons = append(reasons, e[1])
	}
	require.NotEmpty(t, reasons, "openssl pkey printed no error line: %s", stderr)
	return reasons
}
