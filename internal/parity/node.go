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
// error line per connection (an option error thrown by tls.connect is an
// error line too), the extra line and event lines spec asks for, runs
// spec.renegotiate renegotiations, then sends spec.send (default "ping\n"),
// waits for data (unless spec.noEcho) and ends.
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
  if (o.secureContext) {
    const c = {};
    for (const [k, v] of Object.entries(o.secureContext)) c[k] = val(v);
    o.secureContext = tls.createSecureContext(c);
  }
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
function errLine(event, e) {
  const l = {event, code: e.code ?? null, message: e.message};
  if (e.host !== undefined) l.host = e.host;
  if (e.port !== undefined) l.port = e.port;
  return l;
}
function peerChain(s) {
  const chain = [];
  let c = s.getPeerCertificate(true);
  const seen = new Set();
  while (c && c.subject && !seen.has(c)) {
    seen.add(c);
    chain.push({subject: c.subject, issuer: c.issuer, serialNumber: c.serialNumber,
                selfIssued: c.issuerCertificate === c});
    c = c.issuerCertificate;
  }
  return chain;
}
function ekm(s) {
  return (spec.ekm || []).map((k) => {
    try {
      const ctx = k.context === undefined ? undefined : Buffer.from(k.context, 'hex');
      return s.exportKeyingMaterial(k.length, k.label, ctx).toString('hex');
    } catch (e) { return errLine('throw', e); }
  });
}
const events = spec.events || [];
let session = null;
const n = spec.connections || 1;
function once(i) {
  let done = false;
  const finish = () => { if (done) return; done = true; if (i + 1 < n) setTimeout(() => once(i + 1), 20); };
  let s;
  try {
    const o = options();
    if (spec.resume && session) o.session = session;
    s = tls.connect(o, onSecure);
  } catch (e) {
    out(errLine('error', e));
    finish();
    return;
  }
  if (events.includes('keylog')) s.on('keylog', (line) => out({event: 'keylog', label: line.toString().split(' ')[0], length: line.length}));
  if (spec.extra && spec.extra.includes('ekmBeforeSecure')) out({event: 'ekmBeforeSecure', result: ekm(s)});
  function onSecure() {
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
      if (spec.extra.includes('peerChain')) e.peerChain = peerChain(s);
      if (spec.extra.includes('finished')) { e.finished = s.getFinished().toString('hex'); e.peerFinished = s.getPeerFinished().toString('hex'); }
      if (spec.extra.includes('ekm')) e.ekm = ekm(s);
      if (spec.extra.includes('maxSendFragment')) {
        e.maxSendFragment = (spec.maxSendFragment || []).map((n) => {
          try { return s.setMaxSendFragment(n); } catch (err) { return errLine('throw', err); }
        });
      }
      out(e);
    }
    renegotiate(0);
  }
  function send() {
    s.write(spec.send === undefined ? 'ping\n' : spec.send);
    if (spec.noEcho) s.destroySoon();
  }
  function renegotiate(k) {
    if (k >= (spec.renegotiate || 0)) { send(); return; }
    const ok = s.renegotiate({}, (err) => {
      if (err) { out(errLine('renegotiateError', err)); send(); return; }
      out({event: 'renegotiated', n: k + 1});
      renegotiate(k + 1);
    });
  }
  s.on('session', (sess) => { session = sess; if (events.includes('session')) out({event: 'session'}); });
  s.on('OCSPResponse', (r) => out({event: 'OCSPResponse', response: r ? r.toString('hex') : null}));
  s.on('data', () => { s.end(); });
  if (events.includes('end')) s.on('end', () => out({event: 'end', protocol: s.getProtocol()}));
  s.on('error', (e) => { out(errLine('error', e)); finish(); });
  s.on('close', finish);
}
once(0);
`

// serverScript listens as spec.options says and prints a line per event:
// listening (with the port), secureConnection (socket fields), tlsClientError,
// newSession, resumeSession. It echoes what clients send. spec.contexts adds
// SNI contexts (hostname -> options); spec.psk maps identities to hex keys;
// spec.alpnCallback "first" picks the client's first protocol, "none" refuses;
// spec.sessionCache keeps sessions for resumeSession; spec.report adds
// per-connection values (see ServerSpec.Report); spec.ocsp answers
// OCSPRequest.
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
const report = spec.report || [];
const server = tls.createServer(o, (s) => {
  const l = {event: 'secureConnection', authorized: s.authorized, authorizationError: s.authorizationError ?? null,
       protocol: s.getProtocol(), cipher: s.getCipher(), alpnProtocol: s.alpnProtocol, servername: s.servername,
       isSessionReused: s.isSessionReused(), peerCertificate: certObj(s.getPeerCertificate())};
  if (report.includes('finished')) { l.finished = s.getFinished().toString('hex'); l.peerFinished = s.getPeerFinished().toString('hex'); }
  if (report.includes('sharedSigalgs')) l.sharedSigalgs = s.getSharedSigalgs();
  if (report.includes('ekm')) l.ekm = (spec.ekm || []).map((k) => s.exportKeyingMaterial(k.length, k.label, k.context === undefined ? undefined : Buffer.from(k.context, 'hex')).toString('hex'));
  out(l);
  s.on('error', (e) => out({event: 'socketError', code: e.code ?? null, message: e.message}));
  if (report.includes('data')) s.on('data', (d) => out({event: 'data', length: d.length}));
  s.pipe(s);
});
if (spec.ocsp) {
  server.on('OCSPRequest', (cert, issuer, cb) => {
    out({event: 'OCSPRequest', certificate: cert.length > 0, issuer: !!issuer});
    cb(null, spec.ocsp.response ? Buffer.from(spec.ocsp.response, 'hex') : null);
  });
}
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
