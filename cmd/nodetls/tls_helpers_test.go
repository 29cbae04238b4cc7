package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/stretchr/testify/require"
)

// Helpers for the tests of the server and client verbs: the same scenario
// written once with Node's option names (as internal/parity takes it) is
// turned into the command's flags, so the node side and the command side
// are sure to be asked the same thing.

// fileWriter writes option values that are files for the command.
type fileWriter struct {
	t   *testing.T
	dir string
	n   int
}

func newFileWriter(t *testing.T) *fileWriter { return &fileWriter{t: t, dir: t.TempDir()} }

func (w *fileWriter) write(name string, data []byte) string {
	w.t.Helper()
	w.n++
	p := filepath.Join(w.dir, fmt.Sprintf("%02d-%s", w.n, name))
	require.NoError(w.t, os.WriteFile(p, data, 0o600))
	return p
}

// optionBytes reads a PEM string or {"$hex": ...} buffer option value.
func optionBytes(t *testing.T, k string, v any) []byte {
	t.Helper()
	switch x := v.(type) {
	case string:
		return []byte(x)
	case []byte:
		return x
	case map[string]any:
		b, err := hex.DecodeString(x["$hex"].(string))
		require.NoError(t, err, k)
		return b
	}
	t.Fatalf("option %s: cannot write %T to a file", k, v)
	return nil
}

func optionString(t *testing.T, k string, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return strings.Join(x, ",")
	}
	t.Fatalf("option %s: unexpected %T", k, v)
	return ""
}

// commonFlag turns an option both verbs share into its flag; ok is false for
// an option that is not one of them.
func commonFlag(t *testing.T, w *fileWriter, k string, v any) ([]string, bool) {
	t.Helper()
	switch k {
	case "key", "cert", "ca", "pfx":
		return []string{"--" + k, w.write(k, optionBytes(t, k, v))}, true
	case "passphrase", "ciphers", "servername", "host", "port", "sigalgs":
		return []string{"--" + k, optionString(t, k, v)}, true
	case "minVersion":
		return []string{"--min-version", optionString(t, k, v)}, true
	case "maxVersion":
		return []string{"--max-version", optionString(t, k, v)}, true
	case "ecdhCurve":
		return []string{"--ecdh-curve", optionString(t, k, v)}, true
	case "ALPNProtocols":
		return []string{"--alpn-protocols", optionString(t, k, v)}, true
	case "rejectUnauthorized":
		return []string{"--reject-unauthorized=" + optionString(t, k, v)}, true
	}
	return nil, false
}

// sortedKeys gives a map's keys in order, so flags come out the same way
// every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// clientArgs turns tls.connect options (Node's names, as parity.ClientSpec
// has them) into `nodetls client` flags.
func clientArgs(t *testing.T, w *fileWriter, opts map[string]any) []string {
	t.Helper()
	var args []string
	for _, k := range sortedKeys(opts) {
		v := opts[k]
		if f, ok := commonFlag(t, w, k, v); ok {
			args = append(args, f...)
			continue
		}
		switch k {
		case "psk":
			p := v.(map[string]any)
			args = append(args, "--psk", p["identity"].(string)+"="+p["key"].(string))
		case "checkServerIdentity":
			// "skip" goes with psk: the command's --psk turns the check off.
			require.Contains(t, opts, "psk", "checkServerIdentity skip is only expressible with --psk")
		case "timeout":
			args = append(args, "--timeout", optionString(t, k, v))
		default:
			t.Fatalf("client option %q has no flag in this test", k)
		}
	}
	return args
}

// serverArgs turns a parity.ServerSpec into `nodetls server` flags.
func serverArgs(t *testing.T, w *fileWriter, spec parity.ServerSpec) []string {
	t.Helper()
	var args []string
	for _, k := range sortedKeys(spec.Options) {
		v := spec.Options[k]
		if f, ok := commonFlag(t, w, k, v); ok {
			args = append(args, f...)
			continue
		}
		switch k {
		case "requestCert", "honorCipherOrder":
			name := map[string]string{"requestCert": "request-cert", "honorCipherOrder": "honor-cipher-order"}[k]
			args = append(args, "--"+name+"="+optionString(t, k, v))
		case "pskIdentityHint":
			args = append(args, "--psk-identity-hint", optionString(t, k, v))
		case "sessionTimeout":
			args = append(args, "--session-timeout", optionString(t, k, v))
		case "handshakeTimeout":
			args = append(args, "--handshake-timeout", optionString(t, k, v))
		case "ticketKeys":
			args = append(args, "--ticket-keys", hex.EncodeToString(optionBytes(t, k, v)))
		case "dhparam":
			if v == "auto" {
				args = append(args, "--dhparam", "auto")
			} else {
				args = append(args, "--dhparam", w.write("dh.pem", optionBytes(t, k, v)))
			}
		default:
			t.Fatalf("server option %q has no flag in this test", k)
		}
	}
	for _, host := range sortedKeys(spec.Contexts) {
		ctx := spec.Contexts[host]
		require.Len(t, ctx, 2, "--sni takes a key and a certificate")
		key := w.write("sni-key.pem", optionBytes(t, "key", ctx["key"]))
		cert := w.write("sni-cert.pem", optionBytes(t, "cert", ctx["cert"]))
		args = append(args, "--sni", host+"="+key+","+cert)
	}
	for _, id := range sortedKeys(spec.PSK) {
		args = append(args, "--psk", id+"="+spec.PSK[id])
	}
	if spec.SessionCache {
		args = append(args, "--session-cache")
	}
	require.Empty(t, spec.ALPNCallback, "the command has no ALPNCallback")
	return args
}

// cliResult is a finished run of the command.
type cliResult struct {
	stdout, stderr string
	code           int
	lines          []parity.Line
}

// runCLI runs the command with stdin and waits for it (at most a minute).
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, buildNodetls(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "nodetls %q: %v\n%s", args, err, stderr.String())
		code = ee.ExitCode()
	}
	assertNoRace(t, stderr.String())
	return cliResult{stdout.String(), stderr.String(), code, parity.ParseLines(t, stdout.String())}
}

// assertNoRace fails the test when the command (built with -race when the
// tests are) reported a data race.
func assertNoRace(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "WARNING: DATA RACE") {
		t.Errorf("the command reported a data race:\n%s", stderr)
	}
}

var listeningLine = regexp.MustCompile(`"event":"listening","port":(\d+)`)

// startCLIServer starts `nodetls server --json --port 0 ARGS...` and returns
// it with its port and a function that returns its JSON lines so far.
func startCLIServer(t *testing.T, args ...string) (*peers.Proc, int, func() []parity.Line) {
	t.Helper()
	all := append([]string{"server", "--json", "--port", "0"}, args...)
	p := peers.Start(t, buildNodetls(t), all...)
	t.Cleanup(func() { assertNoRace(t, p.Stderr()) })
	m := p.WaitFor(t, listeningLine, 20*time.Second)
	port, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return p, port, func() []parity.Line { return parity.ParseLines(t, p.Stdout()) }
}

// settledLines waits until get returns at least min event lines (not
// "listening") and then until no new line came for a moment, and returns
// them.
func settledLines(get func() []parity.Line, min int, timeout time.Duration) []parity.Line {
	deadline := time.Now().Add(timeout)
	ls := parity.WaitLines(get, min, timeout)
	n, since := len(ls), time.Now()
	for time.Now().Before(deadline) && time.Since(since) < 200*time.Millisecond {
		time.Sleep(25 * time.Millisecond)
		if ls = parity.WaitLines(get, 0, 0); len(ls) != n {
			n, since = len(ls), time.Now()
		}
	}
	return ls
}

// mustJSONString is v as JSON text.
func mustJSONString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// scenarioConcurrency is how many scenarios of a parity test run at once:
// they mostly wait for peers to start and answer.
const scenarioConcurrency = 4

// runScenarios runs f as subtest names[i] for every i, a few at a time.
func runScenarios(t *testing.T, names []string, f func(t *testing.T, i int)) {
	sem := make(chan struct{}, scenarioConcurrency)
	var wg sync.WaitGroup
	for i, name := range names {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.Run(name, func(t *testing.T) { f(t, i) })
		}()
	}
	wg.Wait()
}
