// Package nodeoracle runs one long-lived node process that answers JSON
// requests, for fuzz targets that compare nodetls with Node on many inputs
// (starting node per input would cost 40 ms each).
package nodeoracle

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/peers"
	"github.com/stretchr/testify/require"
)

// Oracle is one node process for a test or a fuzz worker: it answers each
// JSON request, one per line on its stdin, with the JSON line that the
// script's answer(request) returns. Its methods are safe for concurrent
// use; requests are answered in turn.
type Oracle struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr strings.Builder // written by exec until Wait returns; read after
	wait   sync.Once
	err    error // cmd.Wait's
}

// loop reads requests until stdin ends and writes answer's replies; answer
// may return a promise (Ask sends one request at a time, so replies keep
// their order). An answer that throws is replied {oracleError: stack}.
const loop = `
process.stdin.setEncoding('utf8');
let buf = '';
// The end of stdin ends node even when a script left servers listening (a
// test binary that was killed leaves no node behind).
process.stdin.on('end', () => process.exit(0));
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) !== -1) {
    const req = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    Promise.resolve().then(() => answer(req)).then(
      (reply) => process.stdout.write(JSON.stringify(reply) + '\n'),
      (e) => process.stdout.write(JSON.stringify({oracleError: String((e && e.stack) || e)}) + '\n'));
  }
});
`

// Start runs script, which defines answer(request), in node until the test
// ends; without node it fails in CI and skips elsewhere (peers.Require).
func Start(t testing.TB, script string) *Oracle {
	t.Helper()
	peers.Require(t, "node")
	o := &Oracle{cmd: exec.Command("node", "-e", script+loop)}
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

func (o *Oracle) waitExit() { o.wait.Do(func() { o.err = o.cmd.Wait() }) }

// AnswerTimeout bounds the wait for one answer.
var AnswerTimeout = time.Minute

// Ask sends req to node and decodes its answer into reply.
func (o *Oracle) Ask(t testing.TB, req, reply any) {
	t.Helper()
	data, err := json.Marshal(req)
	require.NoError(t, err)
	o.mu.Lock()
	defer o.mu.Unlock()
	// An answer that never comes (a script waiting for an event that does
	// not happen) fails the test instead of hanging it.
	var hung atomic.Bool
	timer := time.AfterFunc(AnswerTimeout, func() {
		hung.Store(true)
		_ = o.cmd.Process.Kill()
	})
	defer timer.Stop()
	_, err = o.stdin.Write(append(data, '\n'))
	var line []byte
	if err == nil {
		line, err = o.stdout.ReadBytes('\n')
	}
	if err != nil {
		// node has died (or is dying): its stderr says why.
		_ = o.cmd.Process.Kill()
		o.waitExit()
		if hung.Load() {
			err = fmt.Errorf("no answer in %v: %w", AnswerTimeout, err)
		}
		t.Fatalf("node oracle: %v (exit: %v)\nrequest: %.4000s\nstderr:\n%s", err, o.err, data, o.stderr.String())
	}
	require.NoError(t, json.Unmarshal(line, reply), "node replied %q", line)
}
