package openssl_test

import (
	"testing"
	"time"

	"github.com/nodetls/nodetls/openssl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Resumption by ticket, with OpenSSL's own ticket keys and with ours, over
// net.Pipe and TCP, TLS 1.2 and 1.3; the session goes through DER between
// the two connections, as a Node client's getSession()/session option does.
func TestSessionResumeByTicket(t *testing.T) {
	leaf := sessionPKI(t)
	for _, tr := range sessionTransports {
		for _, p := range sessionProtocols {
			for _, ownKeys := range []bool{false, true} {
				name := tr.name + "/" + p.name + "/openssl-keys"
				if ownKeys {
					name = tr.name + "/" + p.name + "/our-keys"
				}
				t.Run(name, func(t *testing.T) {
					sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
					var key []byte
					if ownKeys {
						key = newKey(t)
						require.NoError(t, sctx.SetTicketKeys(key))
					}
					cctx := sessionClient(t, leaf, p.v)
					got := newSessionList(t)
					ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}

					first := connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
					assert.Equal(t, p.name, first.version)
					assert.False(t, first.clientReused)
					assert.False(t, first.serverReused)
					sessions := got.all()
					if p.v == openssl.TLS1_3 {
						// OpenSSL 3.0 servers send two tickets after a full handshake.
						assert.Len(t, sessions, 2)
						// Before the tickets are read, the client's session is the
						// handshake's own and cannot be resumed.
						assert.False(t, first.sessionAtHandshake.Resumable())
						assert.Nil(t, first.ticketAtHandshake)
					} else {
						assert.Len(t, sessions, 1)
						assert.True(t, first.sessionAtHandshake.Resumable())
						assert.Equal(t, first.ticketAtHandshake, first.ticketAfterRead)
					}
					require.NotEmpty(t, sessions)
					last := got.last()
					assert.True(t, last.Resumable())
					assert.True(t, last.HasTicket())
					assert.Equal(t, p.v, last.Protocol())
					assert.Equal(t, last.Ticket(), first.ticketAfterRead, "Conn.Ticket is the latest ticket")
					assert.Equal(t, last.Ticket(), first.sessionAfterRead.Ticket(), "Conn.Session is the latest ticket's session")
					assert.True(t, first.sessionAfterRead.Resumable())
					if ownKeys {
						for _, s := range sessions {
							assert.True(t, sameName(s.Ticket(), key), "the ticket starts with our key's name")
						}
					}

					parsed, err := openssl.ParseSession(last.DER())
					require.NoError(t, err)
					defer parsed.Free()
					assert.Equal(t, last.DER(), parsed.DER())
					ccfg.Session = parsed
					second := connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
					assert.True(t, second.clientReused, "client resumed")
					assert.True(t, second.serverReused, "server resumed")
				})
			}
		}
	}
}

// Session-ID resumption through an external cache (tickets off), as Node's
// newSession/resumeSession events do it; TLS 1.3 then uses stateful tickets,
// which OpenSSL looks up the same way.
func TestSessionResumeBySessionID(t *testing.T) {
	leaf := sessionPKI(t)
	for _, tr := range sessionTransports {
		for _, p := range sessionProtocols {
			t.Run(tr.name+"/"+p.name, func(t *testing.T) {
				sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{Options: openssl.OpNoTicket})
				cctx := sessionClient(t, leaf, p.v)
				cache := newSessionCache(t)
				got := newSessionList(t)
				ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}

				first := connect(t, tr, sctx, cctx, cache.serverConfig(), ccfg)
				assert.False(t, first.clientReused)
				news, hits, _ := cache.counts()
				assert.Equal(t, 0, hits)
				sessions := got.all()
				require.NotEmpty(t, sessions)
				if p.v == openssl.TLS1_3 {
					assert.Equal(t, 2, news, "one stateful ticket per new session")
					assert.Len(t, sessions, 2)
				} else {
					assert.Equal(t, 1, news)
					assert.Len(t, sessions, 1)
					assert.False(t, sessions[0].HasTicket())
					assert.Nil(t, first.ticketAfterRead)
				}
				last := got.last()
				key := last.ID()
				if p.v == openssl.TLS1_3 {
					key = last.Ticket() // a stateful ticket is the server's session id
				}
				require.NotEmpty(t, key)
				cache.mu.Lock()
				assert.Contains(t, cache.m, string(key), "the cache key is what the client presents")
				cache.mu.Unlock()

				ccfg.Session = last
				second := connect(t, tr, sctx, cctx, cache.serverConfig(), ccfg)
				assert.True(t, second.clientReused, "client resumed")
				assert.True(t, second.serverReused, "server resumed")
				_, hits, _ = cache.counts()
				assert.Equal(t, 1, hits)

				// Without the external cache nothing resumes: OpenSSL's internal
				// cache is off (Node's observed behaviour).
				ccfg.Session = got.last()
				third := connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
				assert.False(t, third.clientReused)
				assert.False(t, third.serverReused)
			})
		}
	}
}

// newTickets returns the sessions the list received since it held n.
func newTickets(l *sessionList, n int) []*openssl.Session { return l.all()[n:] }

// Two server contexts with the same ticket keys resume each other's sessions
// (Node's test-tls-ticket); different keys, or OpenSSL's own random keys per
// context, do not.
func TestTicketKeysSharedAcrossContexts(t *testing.T) {
	leaf := sessionPKI(t)
	for _, tr := range sessionTransports {
		for _, p := range sessionProtocols {
			t.Run(tr.name+"/"+p.name, func(t *testing.T) {
				shared, other := newKey(t), newKey(t)
				ctx1 := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				ctx2 := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				ctx3 := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				require.NoError(t, ctx1.SetTicketKeys(shared))
				require.NoError(t, ctx2.SetTicketKeys(shared))
				require.NoError(t, ctx3.SetTicketKeys(other))
				plain1 := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				plain2 := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				cctx := sessionClient(t, leaf, p.v)
				got := newSessionList(t)
				ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}

				connect(t, tr, ctx1, cctx, openssl.ConnConfig{}, ccfg)
				fromShared := got.last()
				require.NotNil(t, fromShared)
				ccfg.Session = copySession(t, fromShared)
				o := connect(t, tr, ctx2, cctx, openssl.ConnConfig{}, ccfg)
				assert.True(t, o.clientReused && o.serverReused, "same keys: resumed on the other context")

				n := len(got.all())
				ccfg.Session = copySession(t, fromShared)
				o = connect(t, tr, ctx3, cctx, openssl.ConnConfig{}, ccfg)
				assert.False(t, o.clientReused, "different keys: full handshake")
				assert.False(t, o.serverReused)
				fresh := newTickets(got, n)
				require.NotEmpty(t, fresh, "a new ticket is issued")
				for _, s := range fresh {
					assert.True(t, sameName(s.Ticket(), other), "the new ticket is under the context's key")
				}

				connect(t, tr, plain1, cctx, openssl.ConnConfig{}, ccfg)
				fromPlain := got.last()
				ccfg.Session = copySession(t, fromPlain)
				o = connect(t, tr, plain2, cctx, openssl.ConnConfig{}, ccfg)
				assert.False(t, o.clientReused, "OpenSSL's own keys differ per context")
				ccfg.Session = copySession(t, fromPlain)
				o = connect(t, tr, plain1, cctx, openssl.ConnConfig{}, ccfg)
				assert.True(t, o.clientReused && o.serverReused, "OpenSSL's own keys resume on their context")
				assert.Nil(t, plain1.TicketKeys(), "no keys were set")
			})
		}
	}
}

// Rotation: a ticket under the previous key resumes during the grace period
// and is renewed under the new key; after it, the ticket gets a full
// handshake. All cases rotate first, then wait out the grace period once.
func TestTicketKeyRotation(t *testing.T) {
	leaf := sessionPKI(t)
	const grace = time.Second
	type rotationCase struct {
		name        string
		tr          transportCase
		p           protoCase
		keyB        []byte
		sctx, cctx  *openssl.Context
		got         *sessionList
		ccfg        openssl.ConnConfig
		underA      *openssl.Session // a copy kept for after the grace period
		rotated     time.Time
		setupPassed bool
	}
	var cases []*rotationCase
	for _, tr := range sessionTransports {
		for _, p := range sessionProtocols {
			mode := nodeCacheMode
			c := &rotationCase{name: tr.name + "/" + p.name, tr: tr, p: p, got: newSessionList(t)}
			c.sctx = sessionServer(t, leaf, p.v, openssl.ContextOptions{})
			c.cctx = clientContext(t, leaf.CAPEM, openssl.ContextOptions{MaxVersion: p.v, SessionCacheMode: &mode})
			c.ccfg = openssl.ConnConfig{ServerName: "localhost", OnNewSession: c.got.add}
			cases = append(cases, c)
		}
	}
	t.Cleanup(func() {
		for _, c := range cases {
			c.underA.Free()
		}
	})
	for _, c := range cases {
		c.setupPassed = t.Run(c.name+"/within-grace", func(t *testing.T) {
			keyA := newKey(t)
			c.keyB = newKey(t)
			require.NoError(t, c.sctx.SetTicketKeys(keyA))
			assert.Equal(t, keyA, c.sctx.TicketKeys())
			assert.Equal(t, 1, c.sctx.TicketKeyCount())

			connect(t, c.tr, c.sctx, c.cctx, openssl.ConnConfig{}, c.ccfg)
			underA := c.got.all()
			require.NotEmpty(t, underA)
			for _, s := range underA {
				require.True(t, sameName(s.Ticket(), keyA))
			}
			sessA := underA[0]
			cp, err := openssl.ParseSession(sessA.DER())
			require.NoError(t, err)
			c.underA = cp

			// Under the current key: resumed, and TLS 1.2 keeps its ticket
			// (the callback returned 1, no renewal).
			c.ccfg.Session = sessA
			o := connect(t, c.tr, c.sctx, c.cctx, openssl.ConnConfig{}, c.ccfg)
			assert.True(t, o.clientReused && o.serverReused)
			if c.p.v == openssl.TLS1_2 {
				assert.Equal(t, sessA.Ticket(), o.ticketAfterRead, "not renewed")
			}

			require.NoError(t, c.sctx.RotateTicketKey(c.keyB, grace))
			c.rotated = time.Now()
			assert.Equal(t, c.keyB, c.sctx.TicketKeys())
			assert.Equal(t, 2, c.sctx.TicketKeyCount())

			// Within the grace period: resumed and renewed under B.
			n := len(c.got.all())
			c.ccfg.Session = copySession(t, sessA)
			o = connect(t, c.tr, c.sctx, c.cctx, openssl.ConnConfig{}, c.ccfg)
			assert.True(t, o.clientReused && o.serverReused, "old key accepted during grace %v %v", o.clientReused, o.serverReused)
			require.NotNil(t, o.ticketAfterRead)
			assert.True(t, sameName(o.ticketAfterRead, c.keyB), "ticket renewed under the new key")
			if c.p.v == openssl.TLS1_3 {
				fresh := newTickets(c.got, n)
				require.NotEmpty(t, fresh)
				for _, s := range fresh {
					assert.True(t, sameName(s.Ticket(), c.keyB))
				}
			}
		})
	}
	var last time.Time
	for _, c := range cases {
		if c.rotated.After(last) {
			last = c.rotated
		}
	}
	time.Sleep(time.Until(last.Add(grace + 200*time.Millisecond)))
	for _, c := range cases {
		t.Run(c.name+"/after-grace", func(t *testing.T) {
			require.True(t, c.setupPassed, "the first phase failed")
			assert.Equal(t, 1, c.sctx.TicketKeyCount())
			c.ccfg.Session = c.underA
			o := connect(t, c.tr, c.sctx, c.cctx, openssl.ConnConfig{}, c.ccfg)
			assert.False(t, o.clientReused, "old key refused after grace")
			assert.False(t, o.serverReused)
			assert.True(t, sameName(o.ticketAfterRead, c.keyB), "new ticket under the new key")
		})
	}
}

// SetTicketKeys with older keys: each is accepted until its own time.
func TestTicketKeysOlderKeys(t *testing.T) {
	leaf := sessionPKI(t)
	tr := sessionTransports[1]
	for _, p := range sessionProtocols {
		t.Run(p.name, func(t *testing.T) {
			keyA, keyB, keyC := newKey(t), newKey(t), newKey(t)
			issuer := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
			require.NoError(t, issuer.SetTicketKeys(keyA))
			cctx := sessionClient(t, leaf, p.v)
			got := newSessionList(t)
			ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}
			connect(t, tr, issuer, cctx, openssl.ConnConfig{}, ccfg)
			underA := got.last()
			ccfg.Session = copySession(t, underA)

			sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
			require.NoError(t, sctx.SetTicketKeys(keyC,
				openssl.TicketKey{Key: keyB, Until: time.Now().Add(time.Hour)},
				openssl.TicketKey{Key: keyA, Until: time.Now().Add(time.Hour)}))
			assert.Equal(t, 3, sctx.TicketKeyCount())
			o := connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
			assert.True(t, o.clientReused && o.serverReused)
			assert.True(t, sameName(o.ticketAfterRead, keyC), "renewed under the current key")

			// An older key whose time has passed is dropped at once.
			require.NoError(t, sctx.SetTicketKeys(keyC, openssl.TicketKey{Key: keyA, Until: time.Now().Add(-time.Second)}))
			assert.Equal(t, 1, sctx.TicketKeyCount())
			ccfg.Session = copySession(t, underA)
			o = connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
			assert.False(t, o.clientReused)
			assert.False(t, o.serverReused)
		})
	}
}

// The context's session timeout expires tickets and cached sessions alike:
// New, Reused, then New after the timeout (Node's
// sequential/test-tls-session-timeout: 1 s timeout, 2.1 s wait). All cases
// run their first two connections, then wait once.
func TestSessionTimeoutExpires(t *testing.T) {
	leaf := sessionPKI(t)
	type timeoutCase struct {
		name        string
		tr          transportCase
		p           protoCase
		byID        bool
		sctx, cctx  *openssl.Context
		scfg, ccfg  openssl.ConnConfig
		cache       *sessionCache
		got         *sessionList
		sessions    []*openssl.Session
		setupPassed bool
	}
	var cases []*timeoutCase
	for _, tr := range sessionTransports {
		for _, p := range sessionProtocols {
			for _, byID := range []bool{false, true} {
				c := &timeoutCase{name: tr.name + "/" + p.name + "/ticket", tr: tr, p: p, byID: byID, got: newSessionList(t)}
				opts := openssl.ContextOptions{SessionTimeout: time.Second}
				if byID {
					c.name = tr.name + "/" + p.name + "/session-id"
					opts.Options = openssl.OpNoTicket
					c.cache = newSessionCache(t)
					c.scfg = c.cache.serverConfig()
				}
				c.sctx = sessionServer(t, leaf, p.v, opts)
				c.cctx = sessionClient(t, leaf, p.v)
				c.ccfg = openssl.ConnConfig{ServerName: "localhost", OnNewSession: c.got.add}
				cases = append(cases, c)
			}
		}
	}
	for _, c := range cases {
		c.setupPassed = t.Run(c.name+"/new-then-reused", func(t *testing.T) {
			if !c.byID {
				require.NoError(t, c.sctx.SetTicketKeys(newKey(t)))
			}
			o := connect(t, c.tr, c.sctx, c.cctx, c.scfg, c.ccfg)
			assert.False(t, o.clientReused, "New")
			c.sessions = c.got.all()
			require.NotEmpty(t, c.sessions)
			if !c.byID {
				for _, s := range c.sessions {
					assert.Equal(t, time.Second, s.TicketLifetimeHint(), "the ticket lifetime is the session timeout")
				}
			}
			c.ccfg.Session = c.sessions[0]
			o = connect(t, c.tr, c.sctx, c.cctx, c.scfg, c.ccfg)
			assert.True(t, o.clientReused && o.serverReused, "Reused")
		})
	}
	time.Sleep(2100 * time.Millisecond)
	for _, c := range cases {
		t.Run(c.name+"/new-after-timeout", func(t *testing.T) {
			require.True(t, c.setupPassed, "the first phase failed")
			// TLS 1.3 gave two tickets: use the one not presented yet.
			c.ccfg.Session = c.sessions[len(c.sessions)-1]
			o := connect(t, c.tr, c.sctx, c.cctx, c.scfg, c.ccfg)
			assert.False(t, o.clientReused, "New after the timeout")
			assert.False(t, o.serverReused)
			if c.byID {
				c.cache.mu.Lock()
				expired := c.cache.lastHit
				c.cache.mu.Unlock()
				require.NotNil(t, expired)
				assert.Equal(t, time.Second, expired.Timeout())
				assert.True(t, expired.Expired(time.Now()))
				if c.p.v == openssl.TLS1_2 {
					// TLS 1.2 session-ID lookups remove what expired
					// (SSL_CTX_remove_session marks it).
					assert.False(t, expired.Resumable(), "OpenSSL marks an expired cached session")
				}
			}
		})
	}
}

// With SessCacheClient in the client context's mode (as Node sets it, and as
// OnNewSession needs), OpenSSL uses a TLS 1.3 session once; without it the
// session stays resumable. TLS 1.2 sessions stay resumable either way while
// their ticket is not renewed.
func TestSessionSingleUseOnClient(t *testing.T) {
	leaf := sessionPKI(t)
	tr := sessionTransports[1]
	for _, p := range sessionProtocols {
		for _, clientMode := range []bool{false, true} {
			name := p.name + "/default-mode"
			if clientMode {
				name = p.name + "/client-cache-mode"
			}
			t.Run(name, func(t *testing.T) {
				sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				opts := openssl.ContextOptions{MaxVersion: p.v}
				if clientMode {
					m := nodeCacheMode
					opts.SessionCacheMode = &m
				}
				cctx := clientContext(t, leaf.CAPEM, opts)
				ccfg := openssl.ConnConfig{ServerName: "localhost"}
				first := connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
				sess := first.sessionAfterRead.Ref()
				t.Cleanup(sess.Free)
				ccfg.Session = sess
				o := connect(t, tr, sctx, cctx, openssl.ConnConfig{}, ccfg)
				require.True(t, o.clientReused)
				assert.Equal(t, !(clientMode && p.v == openssl.TLS1_3), sess.Resumable())
			})
		}
	}
}

// After an SNI switch the connection's tickets still use the keys of the
// context it was made from (OpenSSL's session context), so they resume; Node
// behaves the same (its SNI contexts never replace the server's ticket keys).
func TestTicketKeysAfterSNISwitch(t *testing.T) {
	leaf := sessionPKI(t)
	for _, tr := range sessionTransports {
		for _, p := range sessionProtocols {
			t.Run(tr.name+"/"+p.name, func(t *testing.T) {
				first := newKey(t)
				sctx := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				require.NoError(t, sctx.SetTicketKeys(first))
				withKeys := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				require.NoError(t, withKeys.SetTicketKeys(newKey(t)))
				noKeys := sessionServer(t, leaf, p.v, openssl.ContextOptions{})
				cctx := sessionClient(t, leaf, p.v)
				got := newSessionList(t)
				ccfg := openssl.ConnConfig{ServerName: "localhost", OnNewSession: got.add}
				for _, target := range []*openssl.Context{withKeys, noKeys} {
					scfg := openssl.ConnConfig{ServerNameCallback: func(string) (*openssl.Context, error) { return target, nil }}
					ccfg.Session = nil
					o := connect(t, tr, sctx, cctx, scfg, ccfg)
					require.NotNil(t, o.ticketAfterRead)
					assert.True(t, sameName(o.ticketAfterRead, first), "issued under the first context's key")
					ccfg.Session = copySession(t, got.last())
					o = connect(t, tr, sctx, cctx, scfg, ccfg)
					assert.True(t, o.clientReused && o.serverReused, "and resumed")
				}
			})
		}
	}
}
