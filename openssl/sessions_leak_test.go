package openssl_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nodetls/nodetls/cbridge"
	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Many resumptions by ticket and by session id, with sessions through DER,
// rotations and an external cache: once everything is freed, the live
// SSL_SESSION and SSL counts are back where they started.
func TestSessionLeaks(t *testing.T) {
	leaf := sessionPKI(t)
	type setup struct {
		p          protoCase
		byID       bool
		sctx, cctx *openssl.Context
	}
	var setups []setup
	for _, p := range sessionProtocols {
		for _, byID := range []bool{false, true} {
			opts := openssl.ContextOptions{}
			if byID {
				opts.Options = openssl.OpNoTicket
			}
			s := setup{p: p, byID: byID, sctx: sessionServer(t, leaf, p.v, opts), cctx: sessionClient(t, leaf, p.v)}
			if !byID {
				require.NoError(t, s.sctx.SetTicketKeys(newKey(t)))
			}
			setups = append(setups, s)
		}
	}
	round := func(t *testing.T, s setup, i int) {
		tr := sessionTransports[i%2]
		var scfg openssl.ConnConfig
		if s.byID {
			scfg = newSessionCache(t).serverConfig()
		}
		got := newSessionList(t)
		ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}
		connect(t, tr, s.sctx, s.cctx, scfg, ccfg)
		require.NotNil(t, got.last())
		ccfg.Session = copySession(t, got.last())
		o := connect(t, tr, s.sctx, s.cctx, scfg, ccfg)
		require.True(t, o.clientReused && o.serverReused)
		if !s.byID && i%5 == 0 {
			require.NoError(t, s.sctx.RotateTicketKey(newKey(t), 0))
		}
	}
	// Warm up: OpenSSL allocates some things once.
	for _, s := range setups {
		t.Run("warm-up", func(t *testing.T) { round(t, s, 1) })
	}
	// Objects that earlier tests dropped without freeing go with the garbage
	// collector's cleanups: let those run before the baseline. Nothing below
	// relies on cleanups (they would hide a missing Free).
	before := settledObjects()
	for i := 0; i < 20; i++ {
		for _, s := range setups {
			t.Run(fmt.Sprintf("%s/id=%v/%d", s.p.name, s.byID, i), func(t *testing.T) { round(t, s, i) })
		}
	}
	after := cbridge.LiveObjects()
	assert.Equal(t, before.Session, after.Session, "SSL_SESSION objects")
	assert.Equal(t, before.SSL, after.SSL, "SSL objects")
	assert.Equal(t, before.X509, after.X509, "X509 objects")
	assert.Equal(t, before.BIO, after.BIO, "BIO objects")
	t.Logf("live before %+v after %+v", before, after)
}

// settledObjects runs the garbage collector until the live counts stop changing.
func settledObjects() cbridge.ObjectCounts {
	prev := cbridge.LiveObjects()
	for range 50 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		cur := cbridge.LiveObjects()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}
