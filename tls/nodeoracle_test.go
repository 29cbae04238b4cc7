package tls_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/nodetls/nodetls/internal/parity"
	"github.com/nodetls/nodetls/internal/peers"
	"github.com/stretchr/testify/require"
)

// nodeOracle is one long-lived node process for a fuzz run: it answers each
// JSON request, one per line on its stdin, with the JSON line that the
// script's answer(request) returns. Its methods are safe for concurrent
// use; requests are answered in turn.
type nodeOracle struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr strings.Builder // written by exec until Wait returns; read after
	wait   sync.Once
	err    error // cmd.Wait's
}

// oracleLoop reads requests until stdin ends and writes answer's replies.
const oracleLoop = `
process.stdin.setEncoding('utf8');
let buf = '';
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) !== -1) {
    const req = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    process.stdout.write(JSON.stringify(answer(req)) + '\n');
  }
});
`

// startNodeOracle runs script, which defines answer(request), in node until
// the test ends.
func startNodeOracle(t testing.TB, script string) *nodeOracle {
	t.Helper()
	peers.Require(t, "node")
	o := &nodeOracle{cmd: exec.Command("node", "-e", script+oracleLoop)}
	o.cmd.Stderr = &o.stderr
	var err error
	o.stdin, err = o.cmd.StdinPipe()
	require.NoError(t, err)
	out, err := o.cmd.StdoutPipe()
	require.NoError(t, err)
	o.stdout = bufio.NewReader(out)
	require.NoError(t, o.cmd.Start())
	t.Cleanup(func() {
		_ = o.stdin.Close() // node ends at EOF; Kill is for a node that hangs
		_ = o.cmd.Process.Kill()
		o.waitExit()
	})
	return o
}

func (o *nodeOracle) waitExit() { o.wait.Do(func() { o.err = o.cmd.Wait() }) }

// ask is node's answer to req.
func (o *nodeOracle) ask(t testing.TB, req any) parity.Line {
	t.Helper()
	data, err := json.Marshal(req)
	require.NoError(t, err)
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err = o.stdin.Write(append(data, '\n'))
	var reply []byte
	if err == nil {
		reply, err = o.stdout.ReadBytes('\n')
	}
	if err != nil {
		// node has died (or is dying): its stderr says why.
		_ = o.cmd.Process.Kill()
		o.waitExit()
		t.Fatalf("node oracle: %v (exit: %v)\nrequest: %s\nstderr:\n%s", err, o.err, data, o.stderr.String())
	}
	var l parity.Line
	require.NoError(t, json.Unmarshal(reply, &l), "node replied %q", reply)
	return l
}

// jsText is s as a JavaScript string can hold it: JSON, which carries the
// fuzz inputs to node, would turn bytes that are not UTF-8 into U+FFFD, so
// both sides are given the string with that replacement made.
func jsText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
