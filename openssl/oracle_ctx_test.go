package openssl

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test helpers shared by the context, PKCS#12 and DH tests: key material made
// with the openssl CLI in a temporary directory, and the two oracles that
// decide what OpenSSL (or Node on the same OpenSSL 3.0) reports.

// cli runs the openssl command in dir; it fails the test when the command fails.
func cli(t *testing.T, dir string, args ...string) string {
	t.Helper()
	requireTool(t, "openssl")
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "openssl %v: %s", args, out)
	return string(out)
}

// cliResult runs the openssl command in dir and returns stdout, stderr and
// whether it succeeded, for the cases where failure is the expected outcome.
// A command that does not end within 10 s is killed and counted as success
// (a server that started instead of failing).
func cliResult(t *testing.T, dir string, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	requireTool(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		return o.String(), e.String(), true
	}
	return o.String(), e.String(), err == nil
}

// cliErrorEntry is one "error:CODE:library:function:reason:file:line:data"
// line as the openssl CLI prints its error queue.
type cliErrorEntry struct {
	Code, Library, Reason string
}

var cliErrorLine = regexp.MustCompile(`error:([0-9A-F]{8}):([^:]*):[^:]*:([^:]*):`)

// cliErrorEntries extracts the error queue the openssl CLI printed.
func cliErrorEntries(stderr string) []cliErrorEntry {
	var out []cliErrorEntry
	for _, m := range cliErrorLine.FindAllStringSubmatch(stderr, -1) {
		out = append(out, cliErrorEntry{Code: m[1], Library: m[2], Reason: m[3]})
	}
	return out
}

// s_server fails at start-up when it cannot load what it is given; its error
// queue is the oracle for the context's load errors. It listens on
// 127.0.0.1 port 0 and accepts at most one connection.
func sServerResult(t *testing.T, dir string, args ...string) (stderr string, ok bool) {
	t.Helper()
	args = append([]string{"s_server", "-accept", "127.0.0.1:0", "-naccept", "1"}, args...)
	_, e, ok := cliResult(t, dir, args...)
	return e, ok
}

// nodeResult is what tls.createSecureContext did in Node for the same input.
type nodeResult struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	Code    string `json:"code"`
	Reason  string `json:"reason"`
	Library string `json:"library"`
}

const nodeOracleJS = `
const tls = require('tls'), fs = require('fs');
const spec = JSON.parse(process.argv[1]);
const o = {};
for (const k of ['key', 'cert', 'ca', 'pfx', 'crl']) if (spec[k] !== undefined) o[k] = fs.readFileSync(spec[k]);
for (const k of ['passphrase', 'ciphers', 'sigalgs', 'ecdhCurve']) if (spec[k] !== undefined) o[k] = spec[k];
if (spec.dhparam !== undefined) o.dhparam = spec.dhparam === 'auto' ? 'auto' : fs.readFileSync(spec.dhparam);
try { tls.createSecureContext(o); console.log(JSON.stringify({ok: true})); }
catch (e) { console.log(JSON.stringify({ok: false, message: e.message, code: e.code, reason: e.reason, library: e.library})); }
`

// nodeCreateSecureContext runs tls.createSecureContext in Node (v20, on
// OpenSSL 3.0 like the system library) with files of dir named in spec.
func nodeCreateSecureContext(t *testing.T, dir string, spec map[string]string) nodeResult {
	t.Helper()
	requireTool(t, "node")
	js, err := json.Marshal(spec)
	require.NoError(t, err)
	cmd := exec.Command("node", "-e", nodeOracleJS, string(js))
	cmd.Dir = dir
	out, err := cmd.Output()
	require.NoError(t, err, "node: %s", out)
	var r nodeResult
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(out), &r), "node said %q", out)
	return r
}

// pki makes key material with the openssl CLI in a test's temporary directory.
type pki struct {
	t   *testing.T
	dir string
}

func newPKI(t *testing.T) *pki {
	requireTool(t, "openssl")
	return &pki{t: t, dir: t.TempDir()}
}

func (p *pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p *pki) read(name string) []byte {
	p.t.Helper()
	b, err := os.ReadFile(p.path(name))
	require.NoError(p.t, err)
	return b
}

func (p *pki) write(name string, data []byte) {
	p.t.Helper()
	require.NoError(p.t, os.WriteFile(p.path(name), data, 0o600))
}

// selfSigned makes name.key and name.pem: a self-signed certificate for a new
// key made by `openssl req -newkey alg` ("rsa:2048", "ec", ...), CA:TRUE.
func (p *pki) selfSigned(name, newkey string, extra ...string) {
	p.t.Helper()
	args := []string{"req", "-x509", "-newkey", newkey, "-nodes", "-keyout", name + ".key", "-out", name + ".pem",
		"-subj", "/CN=" + name, "-days", "1", "-addext", "basicConstraints=critical,CA:TRUE"}
	cli(p.t, p.dir, append(args, extra...)...)
}

// ecSelfSigned is selfSigned with a P-256 key.
func (p *pki) ecSelfSigned(name string) {
	p.t.Helper()
	cli(p.t, p.dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", name+".key", "-out", name+".pem", "-subj", "/CN="+name, "-days", "1")
}

// issued makes name.key and name.pem signed by issuer with digest md; ca
// marks it as a CA certificate.
func (p *pki) issued(name, issuer, md string, ca bool) {
	p.t.Helper()
	cli(p.t, p.dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", name+".key", "-out", name+".csr", "-subj", "/CN="+name)
	ext := "basicConstraints=critical,CA:FALSE\n"
	if ca {
		ext = "basicConstraints=critical,CA:TRUE\n"
	}
	p.write(name+".ext", []byte(ext))
	cli(p.t, p.dir, "x509", "-req", "-in", name+".csr", "-CA", issuer+".pem", "-CAkey", issuer+".key",
		"-set_serial", "0x"+strings.Repeat("1", len(name)+1), "-out", name+".pem", "-days", "1", "-"+md, "-extfile", name+".ext")
}

// encryptKey writes name.enc.key: name.key encrypted with AES-256 under pass.
func (p *pki) encryptKey(name, pass string) {
	p.t.Helper()
	cli(p.t, p.dir, "pkey", "-in", name+".key", "-aes256", "-passout", "pass:"+pass, "-out", name+".enc.key")
}

// pkcs12 writes out: a PKCS#12 file of name's key and certificate (and the
// certificates of caFile, if not empty), made by the CLI with OpenSSL 3's defaults.
func (p *pki) pkcs12(out, name, caFile, pass string, nokeys bool) {
	p.t.Helper()
	args := []string{"pkcs12", "-export", "-in", name + ".pem", "-passout", "pass:" + pass, "-out", out}
	if nokeys {
		args = append(args, "-nokeys")
	} else {
		args = append(args, "-inkey", name+".key")
	}
	if caFile != "" {
		args = append(args, "-certfile", caFile)
	}
	cli(p.t, p.dir, args...)
}

// dhParams writes out: DH parameters of the CLI's genpkey (-pkeyopt opts).
func (p *pki) dhParams(out, alg string, opts ...string) {
	p.t.Helper()
	args := []string{"genpkey", "-genparam", "-algorithm", alg, "-out", out}
	for _, o := range opts {
		args = append(args, "-pkeyopt", o)
	}
	cli(p.t, p.dir, args...)
}
