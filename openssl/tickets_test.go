package openssl_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad ticket keys are refused at the call with a clear error, and change nothing.
func TestTicketKeysErrors(t *testing.T) {
	ctx, err := openssl.NewContext(openssl.ContextOptions{})
	require.NoError(t, err)
	defer ctx.Close()
	good := newKey(t)
	assert.Nil(t, ctx.TicketKeys(), "no keys until set")
	assert.Equal(t, 0, ctx.TicketKeyCount())

	var oe *openssl.Error
	err = ctx.RotateTicketKey(good, time.Minute)
	require.ErrorAs(t, err, &oe, "rotating needs keys")
	assert.Contains(t, oe.Reason, "no ticket keys to rotate")

	for _, tc := range []struct {
		name   string
		call   func() error
		reason string
	}{
		{"nil", func() error { return ctx.SetTicketKeys(nil) }, "ticket key must be exactly 48 bytes, got 0"},
		{"47 bytes", func() error { return ctx.SetTicketKeys(good[:47]) }, "ticket key must be exactly 48 bytes, got 47"},
		{"49 bytes", func() error { return ctx.SetTicketKeys(append(append([]byte{}, good...), 0)) }, "ticket key must be exactly 48 bytes, got 49"},
		{"older key length", func() error {
			return ctx.SetTicketKeys(good, openssl.TicketKey{Key: good[:16], Until: time.Now().Add(time.Hour)})
		}, "older ticket key 0 must be exactly 48 bytes, got 16"},
		{"older key without time", func() error { return ctx.SetTicketKeys(good, openssl.TicketKey{Key: good}) }, "older ticket key without an Until time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var oe *openssl.Error
			require.ErrorAs(t, tc.call(), &oe)
			assert.Equal(t, tc.reason, oe.Reason)
			assert.Equal(t, "SSL_CTX_set_tlsext_ticket_key_evp_cb", oe.Op)
			assert.Nil(t, ctx.TicketKeys(), "nothing was set")
		})
	}

	require.NoError(t, ctx.SetTicketKeys(good))
	for _, tc := range []struct {
		name   string
		call   func() error
		reason string
	}{
		{"rotate 47 bytes", func() error { return ctx.RotateTicketKey(good[:47], time.Minute) }, "ticket key must be exactly 48 bytes, got 47"},
		{"negative grace", func() error { return ctx.RotateTicketKey(newKey(t), -time.Second) }, "negative ticket key grace period"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var oe *openssl.Error
			require.ErrorAs(t, tc.call(), &oe)
			assert.Equal(t, tc.reason, oe.Reason)
			assert.Equal(t, good, ctx.TicketKeys(), "the keys are unchanged")
			assert.Equal(t, 1, ctx.TicketKeyCount())
		})
	}
}

// TicketKeys is a copy; rotation with no grace drops the previous key; a
// closed context refuses keys.
func TestTicketKeysState(t *testing.T) {
	ctx, err := openssl.NewContext(openssl.ContextOptions{})
	require.NoError(t, err)
	a, b := newKey(t), newKey(t)
	require.NoError(t, ctx.SetTicketKeys(a))
	got := ctx.TicketKeys()
	require.Equal(t, a, got)
	got[0] ^= 0xff
	assert.Equal(t, a, ctx.TicketKeys(), "TicketKeys returns a copy")
	a[1] ^= 0xff
	assert.False(t, bytes.Equal(a, ctx.TicketKeys()), "the context keeps its own copy of the key")

	require.NoError(t, ctx.RotateTicketKey(b, time.Hour))
	assert.Equal(t, 2, ctx.TicketKeyCount())
	require.NoError(t, ctx.RotateTicketKey(a, 0))
	assert.Equal(t, 2, ctx.TicketKeyCount(), "b dropped at once, the key before it still in grace")
	require.NoError(t, ctx.SetTicketKeys(b))
	assert.Equal(t, 1, ctx.TicketKeyCount(), "SetTicketKeys replaces every key")

	k1, k2 := newKey(t), newKey(t)
	assert.NotEqual(t, k1, k2, "NewTicketKey is random")

	require.NoError(t, ctx.Close())
	var oe *openssl.Error
	require.ErrorAs(t, ctx.SetTicketKeys(a), &oe)
	assert.Equal(t, "context is closed", oe.Reason)
	require.ErrorAs(t, ctx.RotateTicketKey(a, time.Minute), &oe)
	assert.Nil(t, ctx.TicketKeys())
	assert.Equal(t, 0, ctx.TicketKeyCount())
}

// Keys set and rotated while handshakes run: no race, every handshake ends
// resumed or fresh, never failed.
func TestTicketKeysConcurrentRotation(t *testing.T) {
	leaf := sessionPKI(t)
	sctx := sessionServer(t, leaf, openssl.TLS1_2, openssl.ContextOptions{})
	require.NoError(t, sctx.SetTicketKeys(newKey(t)))
	cctx := sessionClient(t, leaf, openssl.TLS1_2)
	got := newSessionList(t)
	ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}
	connect(t, sessionTransports[1], sctx, cctx, openssl.ConnConfig{}, ccfg)
	seed := got.last()

	stop := make(chan struct{})
	rotated := make(chan int)
	go func() {
		n := 0
		defer func() { rotated <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			k, err := openssl.NewTicketKey()
			if err != nil || sctx.RotateTicketKey(k, 50*time.Millisecond) != nil {
				return
			}
			n++
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; i < 30; i++ {
		ccfg.Session = copySession(t, seed)
		connect(t, sessionTransports[i%2], sctx, cctx, openssl.ConnConfig{}, ccfg)
	}
	close(stop)
	assert.Positive(t, <-rotated)
}
