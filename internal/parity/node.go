// Package parity runs the same TLS scenario as a small Node program and as Go
// code on nodetls, and compares what a user of each would observe: the JSON
// lines both print for the same events ({"event":"secureConnect",...},
// {"event":"error","code":...}, {"event":"tlsClientError",...}, ...).
//
// A scenario's options are written once, with Node's option names (a
// map[string]any as it would be passed to tls.connect or tls.createServer).
// The Node scripts pass them to Node; Go converts them to nodetls options.
// Buffers are written {"$hex": "..."}; functions are named by a few
// conventions (see the scripts).
package parity

// clientScript connects as spec.options says (spec.connections times,
// resuming the previous session when spec.resume), prints a secureConnect or
// error line per connection, then sends spec.send (default "ping\n"), waits
// for data and ends.
const clientScript = `
const tls = require('tls');
const spec = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
function val(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && '$hex' in v) return Buffer.from(v.$hex, 'hex');
  if (Array.isArray(v)) return v.map(val);
  return v;
}
function options() {
  const o = {};
  for (const [k, v] of Object.entries(spec.options)) o[k] = val(v);
  if (o.checkServerIdentity === 'skip') o.checkServerIdentity = () => undefined;
  if (o.psk) {
    const p = o.psk;
    o.pskCallback = (hint) => { if (spec.printHint) out({event: 'pskHint', hint}); return {psk: Buffer.from(p.key, 'hex'), identity: p.identity}; };
    delete o.psk;
  }
  return o;
}
function certObj(c) {
  if (!c) return c;
  const x = Object.assign({}, c);
  delete x.raw; delete x.pubkey; delete x.issuerCertificate;
  return x;
}
let session = null;
const n = spec.connections || 1;
function once(i) {
  const o = options();
  if (spec.resume && session) o.session = session;
  let done = false;
  const finish = () => { if (done) return; done = true; if (i + 1 < n) setTimeout(() => once(i + 1), 20); };
  const s = tls.connect(o, () => {
    out({event: 'secureConnect', authorized: s.authorized, authorizationError: s.authorizationError ?? null,
         protocol: s.getProtocol(), cipher: s.getCipher(), alpnProtocol: s.alpnProtocol, servername: s.servername,
         isSessionReused: s.isSessionReused(), peerCertificate: certObj(s.getPeerCertificate())});
    if (spec.extra) {
      const e = {event: 'extra'};
      if (spec.extra.includes('ephemeralKeyInfo')) e.ephemeralKeyInfo = s.getEphemeralKeyInfo();
      if (spec.extra.includes('sharedSigalgs')) e.sharedSigalgs = s.getSharedSigalgs();
      if (spec.extra.includes('finishedLength')) e.finishedLength = s.getFinished().length;
      if (spec.extra.includes('certificate')) e.certificate = certObj(s.getCertificate());
      if (spec.extra.includes('ticket')) e.ticket = !!s.getTLSTicket();
      out(e);
    }
    s.write(spec.send === undefined ? 'ping\n' : spec.send);
  });
  s.on('session', (sess) => { session = sess; });
  s.on('OCSPResponse', (r) => out({event: 'OCSPResponse', response: r ? r.toString('hex') : null}));
  s.on('data', () => { s.end(); });
  s.on('error', (e) => { out({event: 'error', code: e.code ?? null, message: e.message}); finish(); });
  s.on('close', finish);
}
once(0);
`

// serverScript listens as spec.options says and prints a line per event:
// listening (with the port), secureConnection (socket fields), tlsClientError,
// newSession, resumeSession. It echoes what clients send. spec.contexts adds
// SNI contexts (hostname -> options); spec.psk maps identities to hex keys;
// spec.alpnCallback "first" picks the client's first protocol, "none" refuses;
// spec.sessionCache keeps sessions for resumeSession.
const serverScript = `
const tls = require('tls');
const spec = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
function val(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && '$hex' in v) return Buffer.from(v.$hex, 'hex');
  if (Array.isArray(v)) return v.map(val);
  return v;
}
function conv(src) { const o = {}; for (const [k, v] of Object.entries(src || {})) o[k] = val(v); return o; }
const o = conv(spec.options);
if (spec.psk) o.pskCallback = (socket, identity) => spec.psk[identity] ? Buffer.from(spec.psk[identity], 'hex') : null;
if (spec.alpnCallback === 'first') o.ALPNCallback = ({protocols}) => protocols[0];
if (spec.alpnCallback === 'none') o.ALPNCallback = () => undefined;
function certObj(c) {
  if (!c) return c;
  const x = Object.assign({}, c);
  delete x.raw; delete x.pubkey; delete x.issuerCertificate;
  return x;
}
const server = tls.createServer(o, (s) => {
  out({event: 'secureConnection', authorized: s.authorized, authorizationError: s.authorizationError ?? null,
       protocol: s.getProtocol(), cipher: s.getCipher(), alpnProtocol: s.alpnProtocol, servername: s.servername,
       isSessionReused: s.isSessionReused(), peerCertificate: certObj(s.getPeerCertificate())});
  s.on('error', (e) => out({event: 'socketError', code: e.code ?? null, message: e.message}));
  s.pipe(s);
});
for (const [host, ctx] of Object.entries(spec.contexts || {})) server.addContext(host, conv(ctx));
server.on('tlsClientError', (e, s) => { out({event: 'tlsClientError', code: e.code ?? null, message: e.message}); if (spec.destroyOnError !== false) s.destroy(); });
if (spec.sessionCache) {
  const cache = new Map();
  server.on('newSession', (id, data, cb) => { out({event: 'newSession', id: id.toString('hex')}); cache.set(id.toString('hex'), data); cb(); });
  server.on('resumeSession', (id, cb) => { const d = cache.get(id.toString('hex')); out({event: 'resumeSession', id: id.toString('hex'), found: !!d}); cb(null, d || null); });
}
server.listen(0, '127.0.0.1', () => out({event: 'listening', port: server.address().port}));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`
