package tls

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/stretchr/testify/require"
)

// TestInspectMatchesNode compares inspect (strings, Buffers) and the
// ERR_INVALID_ARG_VALUE message built on it with node's util.inspect and
// the message Node's errors carry, on strings of every quoting and escaping
// case, long and multi-line strings, and random ones.
func TestInspectMatchesNode(t *testing.T) {
	o := nodeoracle.Start(t, `
const util = require('util');
function answer(req) {
  const v = req.hex !== undefined ? Buffer.from(req.hex, 'hex') : Buffer.from(req.s, 'hex').toString('utf8');
  const inspected = util.inspect(v);
  let cut = inspected;
  if (cut.length > 128) cut = cut.slice(0, 128) + '...';
  return { inspected, message: "The argument 'x' is bad. Received " + cut };
}`)
	strs := []string{"", "a", "it's", `it's "q"`, "it's \"q\" `b`", `it's "q" ${x}`, "`b` \"q\"", "\x00\x07\x0b\x1f\x7f\u0080\u009f\u00a0",
		"\\", "tab\tnl\n\r\b\f", "é😀", "bad\xffutf8", strings.Repeat("x", 20) + "\n" + strings.Repeat("y", 70),
		strings.Repeat("ab\n", 30), strings.Repeat("'\n", 40) + "\"", strings.Repeat("x", 76) + "\n", strings.Repeat("x", 75) + "\n\n",
		strings.Repeat("é", 10001), strings.Repeat("😀", 5001) + "\n", strings.Repeat("a", 10002)}
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []rune("a'\"`${}\\\n\t\x00\x1b\x7f\u0085é😀 ")
	for range 300 {
		n := r.IntN(120)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		strs = append(strs, b.String())
	}
	for _, s := range strs {
		var want struct{ Inspected, Message string }
		o.Ask(t, map[string]string{"s": hex.EncodeToString([]byte(s))}, &want)
		require.Equal(t, want.Inspected, inspect(s), "%q", s)
		require.Equal(t, want.Message, errInvalidArgValue("x", s, "is bad").Message, "%q", s)
	}
	for _, n := range []int{0, 1, 49, 50, 51, 52, 513} {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
		}
		var want struct{ Inspected, Message string }
		o.Ask(t, map[string]string{"hex": hex.EncodeToString(p)}, &want)
		require.Equal(t, want.Inspected, inspect(p), "%d bytes", n)
		require.Equal(t, want.Message, errInvalidArgValue("x", p, "is bad").Message, "%d bytes", n)
	}
}
