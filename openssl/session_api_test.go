package openssl_test

import (
	"net"
	"testing"

	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ParseSession refuses anything but exactly one DER session, with OpenSSL's
// reason where OpenSSL found the problem.
func TestParseSessionErrors(t *testing.T) {
	leaf := sessionPKI(t)
	sctx := sessionServer(t, leaf, openssl.TLS1_2, openssl.ContextOptions{})
	cctx := sessionClient(t, leaf, openssl.TLS1_2)
	o := connect(t, sessionTransports[1], sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
	der := o.sessionAfterRead.DER()
	require.NotEmpty(t, der)
	certDER, err := leaf.Cert.DER()
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		in     []byte
		reason string // "" = any reason OpenSSL gives
	}{
		{"empty", nil, "empty DER session"},
		{"junk", []byte("not a session at all"), ""},
		{"truncated", der[:len(der)-7], ""},
		{"header only", der[:4], ""},
		{"a certificate", certDER, ""},
		{"trailing data", append(append([]byte{}, der...), 0, 1, 2), "3 bytes of trailing data after the DER session"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := openssl.ParseSession(tc.in)
			assert.Nil(t, s)
			var oe *openssl.Error
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, "d2i_SSL_SESSION", oe.Op)
			assert.NotEmpty(t, oe.Reason)
			if tc.reason != "" {
				assert.Equal(t, tc.reason, oe.Reason)
			} else {
				assert.NotEmpty(t, oe.Library, "an OpenSSL error: %v", oe)
			}
		})
	}

	// The session itself parses, and its DER is stable.
	s, err := openssl.ParseSession(der)
	require.NoError(t, err)
	defer s.Free()
	assert.Equal(t, der, s.DER())
	assert.Equal(t, openssl.TLS1_2, s.Protocol())
	assert.True(t, s.HasTicket())
}

// After Free a Session answers with zero values, Free again does nothing, and
// a connection refuses it at once.
func TestSessionFree(t *testing.T) {
	leaf := sessionPKI(t)
	sctx := sessionServer(t, leaf, openssl.TLS1_2, openssl.ContextOptions{})
	cctx := sessionClient(t, leaf, openssl.TLS1_2)
	o := connect(t, sessionTransports[1], sctx, cctx, openssl.ConnConfig{}, openssl.ConnConfig{ServerName: "localhost"})
	s := o.sessionAfterRead.Ref()
	ref := s.Ref()
	defer ref.Free()
	require.NotEmpty(t, s.DER())
	assert.False(t, s.Time().IsZero())
	assert.Positive(t, s.Timeout())

	s.Free()
	s.Free()
	assert.Nil(t, s.DER())
	assert.Nil(t, s.ID())
	assert.Nil(t, s.Ticket())
	assert.False(t, s.Resumable())
	assert.False(t, s.HasTicket())
	assert.Nil(t, s.Ref())
	assert.Equal(t, openssl.ProtocolVersion(0), s.Protocol())
	assert.True(t, s.Expired(s.Time()))
	assert.True(t, ref.Resumable(), "another reference is unaffected")

	var nilSession *openssl.Session
	assert.Nil(t, nilSession.DER())
	nilSession.Free()

	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	_, err := openssl.Client(a, cctx, openssl.ConnConfig{Session: s})
	var oe *openssl.Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "session is freed", oe.Reason)
	c, err := openssl.Client(b, cctx, openssl.ConnConfig{})
	require.NoError(t, err)
	defer c.Close()
	require.ErrorAs(t, c.SetSession(s), &oe)
	assert.Equal(t, "session is freed", oe.Reason)
	require.NoError(t, c.SetSession(ref))
}

// OnNewSession is refused where OpenSSL would never call it.
func TestOnNewSessionNeedsCacheMode(t *testing.T) {
	leaf := sessionPKI(t)
	off := openssl.SessCacheOff
	cases := []struct {
		name   string
		server bool
		ctx    *openssl.Context
		reason string
	}{
		{"client with OpenSSL's default mode", false, clientContext(t, leaf.CAPEM, openssl.ContextOptions{}),
			"OnNewSession needs the context's session cache mode to include SessCacheClient"},
		{"server with the cache off", true, serverContext(t, leaf, openssl.ContextOptions{SessionCacheMode: &off}),
			"OnNewSession needs the context's session cache mode to include SessCacheServer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			cfg := openssl.ConnConfig{OnNewSession: func(s *openssl.Session) { s.Free() }}
			var err error
			if tc.server {
				_, err = openssl.Server(a, tc.ctx, cfg)
			} else {
				_, err = openssl.Client(a, tc.ctx, cfg)
			}
			var oe *openssl.Error
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tc.reason, oe.Reason)
		})
	}
}

// The Session GetSession returns is handed over to OpenSSL: the connection
// resumes with it and the Session is freed afterwards.
func TestGetSessionHandsOver(t *testing.T) {
	leaf := sessionPKI(t)
	sctx := sessionServer(t, leaf, openssl.TLS1_2, openssl.ContextOptions{Options: openssl.OpNoTicket})
	cctx := sessionClient(t, leaf, openssl.TLS1_2)
	var stored *openssl.Session
	var handed []*openssl.Session
	scfg := openssl.ConnConfig{
		OnNewSession: func(s *openssl.Session) { stored = s },
		GetSession: func(id []byte) *openssl.Session {
			if stored == nil {
				return nil
			}
			// Hand over a DER copy, as a cache of bytes (Node's) would.
			s, err := openssl.ParseSession(stored.DER())
			if err != nil {
				return nil
			}
			handed = append(handed, s)
			return s
		},
	}
	t.Cleanup(func() { stored.Free() })
	got := newSessionList(t)
	ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}
	connect(t, sessionTransports[1], sctx, cctx, scfg, ccfg)
	require.NotNil(t, stored)
	ccfg.Session = got.last()
	o := connect(t, sessionTransports[1], sctx, cctx, scfg, ccfg)
	assert.True(t, o.serverReused && o.clientReused)
	require.Len(t, handed, 1)
	assert.Nil(t, handed[0].DER(), "handed over: the Session is freed")
	handed[0].Free() // harmless
	assert.True(t, stored.Resumable(), "the cache's own Session is untouched")
}
