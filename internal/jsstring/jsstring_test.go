package jsstring

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/stretchr/testify/require"
)

// TestAgainstNode compares UTF8, Latin1 and ASCII with node's
// Buffer#toString('utf8' | 'latin1' | 'ascii') on every byte, on ill-formed
// UTF-8 of every kind, and on random bytes.
func TestAgainstNode(t *testing.T) {
	o := nodeoracle.Start(t, `
function answer(req) {
  const b = Buffer.from(req.hex, 'hex');
  return { utf8: b.toString('utf8'), latin1: b.toString('latin1'), ascii: b.toString('ascii') };
}`)
	in := []string{"", "plain", "é😀", "\xe0\xbd", "\xe0\x80", "\xed\xa0\x80", "\xed\x9f\xbf", "\xf0\x9f\x98x",
		"\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\xc0\xaf", "\xc1\xbf", "\xc2", "\xc2\x80",
		"a\xf1\x80\x80\xe1\x80\xc2b", "\xf8\x88\x80\x80\x80", "\xef\xbf\xbf", "\xe1\x80\x80\x80"}
	for c := 0; c < 256; c++ {
		in = append(in, string([]byte{byte(c)}), string([]byte{byte(c), 0x80, 0xbf}))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(0x70 + r.IntN(0x90)) // mostly high bytes
		}
		in = append(in, string(b))
	}
	for _, s := range in {
		var want struct{ UTF8, Latin1, ASCII string }
		o.Ask(t, map[string]string{"hex": hex.EncodeToString([]byte(s))}, &want)
		require.Equal(t, want.UTF8, UTF8(s), "utf8 %x", s)
		require.Equal(t, want.Latin1, Latin1(s), "latin1 %x", s)
		require.Equal(t, want.ASCII, ASCII(s), "ascii %x", s)
	}
}
