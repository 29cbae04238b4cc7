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
//
// Client scenarios run a node client and tls.Connect against one server
// (RunNodeClient, RunGoClient). Server scenarios (RunServer, RunServers)
// run the same peer — a node client, openssl s_client, or a raw TCP client —
// against a node server and a tls.CreateServer server, and return what each
// server and the peer printed.
package parity

// clientScript connects as spec.options says (spec.connections times,
// resuming the previous session when spec.resume; connection i on
// spec.ports[i % len] when set; spec.delay ms after the TCP connection when
// set), prints a secureConnect or error line per connection (an option error
// thrown by tls.connect is an error line too), the extra line and event lines
// spec asks for, runs spec.renegotiate renegotiations, then either runs
// spec.steps or sends spec.send (default "ping\n"), waits for data (unless
// spec.noEcho) and ends.
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
// runSteps runs spec.steps after secureConnect: "renegotiate" (prints the
// outcome), "send:TEXT", "read" (prints the data), "end".
async function runSteps(s, steps) {
  let closed = false;
  s.once('close', () => { closed = true; });
  const whenClosed = (res, v) => s.once('close', () => res(v));
  for (const st of steps) {
    if (closed) { out({event: 'closed'}); return; }
    if (st === 'renegotiate') {
      out(await new Promise((res) => {
        const ok = s.renegotiate({}, (e) => res(e ? {event: 'renegotiate', code: e.code ?? null, message: e.message} : {event: 'renegotiate', ok: true}));
        if (ok === false) return;
        whenClosed(res, {event: 'renegotiate', closed: true});
      }));
    } else if (st.startsWith('send:')) {
      s.write(st.slice(5));
    } else if (st === 'read') {
      out(await new Promise((res) => { s.once('data', (d) => res({event: 'data', data: d.toString()})); whenClosed(res, {event: 'data', closed: true}); }));
    } else if (st === 'end') {
      s.end();
    }
  }
}
const events = spec.events || [];
let session = null;
const n = spec.connections || 1;
function once(i) {
  let o;
  try {
    o = options();
  } catch (e) {
    out(errLine('error', e));
    if (i + 1 < n) setTimeout(() => once(i + 1), 20);
    return;
  }
  if (spec.ports) o.port = spec.ports[i % spec.ports.length];
  if (spec.resume && session) o.session = session;
  if (!spec.delay) return start(i, o);
  // spec.delay: connect TCP, wait, then run TLS over that socket.
  const raw = require('net').connect(o.port, o.host, () => setTimeout(() => { o.socket = raw; start(i, o); }, spec.delay));
}
function start(i, o) {
  let done = false;
  const finish = () => { if (done) return; done = true; if (i + 1 < n) setTimeout(() => once(i + 1), 20); };
  let s;
  try {
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
    if (spec.steps) { runSteps(s, spec.steps); return; }
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
  if (!spec.steps) s.on('data', () => { s.end(); });
  if (events.includes('end')) s.on('end', () => out({event: 'end', protocol: s.getProtocol()}));
  s.on('error', (e) => { out(errLine('error', e)); finish(); });
  s.on('close', finish);
}
once(0);
`

// serverScript listens as spec.options says and prints a line per event:
// listening (with the port), secureConnection (socket fields), tlsClientError
// (with the socket's servername), socketError, newSession, resumeSession,
// SNICallback, ALPNCallback, keylog, OCSPRequest, call (spec.calls), createError (when
// tls.createServer throws; "listening" then has port 0). It echoes what
// clients send. spec.contexts adds addContext entries (hostname -> options);
// spec.sni answers an SNICallback by name (options, "error", "empty"; other
// names keep the default); spec.psk maps identities to hex keys (a
// pskCallback line with the identity when spec.printIdentity);
// spec.alpnCallback "first" picks the client's first protocol (after
// this.setKeyCert(spec.setKeyCert) when given), "none" refuses, "invalid"
// returns a protocol the client did not offer; spec.sessionCache keeps
// sessions for resumeSession (spec.sessionCacheInvalid answers with junk);
// spec.ocsp is "null", "error" or the hex response for OCSPRequest;
// spec.setSecureContextAfterFirst is applied once the first connection is
// secure; spec.disableRenegotiation disables renegotiation on each socket
// after its first data; spec.destroyOnSocketError destroys a socket after
// an 'error'; spec.certificate adds getCertificate() (twice) to
// secureConnection lines; spec.report adds per-connection values (see
// ServerSpec.Report).
const serverScript = `
const tls = require('tls');
const crypto = require('crypto');
const spec = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const errLine = (event, e) => ({event, code: e.code ?? null, message: e.message});
function val(v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && '$hex' in v) return Buffer.from(v.$hex, 'hex');
  if (Array.isArray(v)) return v.map(val);
  return v;
}
function conv(src) { const o = {}; for (const [k, v] of Object.entries(src || {})) o[k] = val(v); return o; }
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const o = conv(spec.options);
if (spec.psk) o.pskCallback = (socket, identity) => {
  if (spec.printIdentity) out({event: 'pskCallback', identity});
  return spec.psk[identity] ? Buffer.from(spec.psk[identity], 'hex') : null;
};
const alpnLine = (servername, protocols) => out({event: 'ALPNCallback', servername: servername || null, protocols});
if (spec.alpnCallback === 'first') o.ALPNCallback = function({servername, protocols}) {
  alpnLine(servername, protocols);
  if (spec.setKeyCert) this.setKeyCert(conv(spec.setKeyCert));
  return protocols[0];
};
if (spec.alpnCallback === 'none') o.ALPNCallback = ({servername, protocols}) => { alpnLine(servername, protocols); return undefined; };
if (spec.alpnCallback === 'invalid') o.ALPNCallback = ({servername, protocols}) => { alpnLine(servername, protocols); return 'not-offered'; };
if (spec.sni) o.SNICallback = (name, cb) => {
  out({event: 'SNICallback', servername: name});
  const v = spec.sni[name];
  if (v === 'error') cb(new Error('SNI error for ' + name));
  else if (v === 'empty') cb(null, tls.createSecureContext());
  else if (v) cb(null, tls.createSecureContext(conv(v)));
  else cb(null, null);
};
function certObj(c) {
  if (!c) return c;
  const x = Object.assign({}, c);
  delete x.raw; delete x.pubkey; delete x.issuerCertificate;
  return x;
}
let secureCount = 0;
function onSecure(s) {
  const line = {event: 'secureConnection', authorized: s.authorized, authorizationError: s.authorizationError ?? null,
       protocol: s.getProtocol(), cipher: s.getCipher(), alpnProtocol: s.alpnProtocol, servername: s.servername,
       isSessionReused: s.isSessionReused(), peerCertificate: certObj(s.getPeerCertificate())};
  if (spec.certificate) { line.certificate = certObj(s.getCertificate()); line.certificateAgain = certObj(s.getCertificate()); }
  const report = spec.report || [];
  if (report.includes('finished')) { line.finished = s.getFinished().toString('hex'); line.peerFinished = s.getPeerFinished().toString('hex'); }
  if (report.includes('sharedSigalgs')) line.sharedSigalgs = s.getSharedSigalgs();
  if (report.includes('ekm')) line.ekm = (spec.ekm || []).map((k) => s.exportKeyingMaterial(k.length, k.label, k.context === undefined ? undefined : Buffer.from(k.context, 'hex')).toString('hex'));
  out(line);
  if (report.includes('data')) s.on('data', (d) => out({event: 'data', length: d.length}));
  s.on('error', (e) => { out(errLine('socketError', e)); if (spec.destroyOnSocketError) s.destroy(); });
  if (spec.disableRenegotiation) s.once('data', () => s.disableRenegotiation());
  s.pipe(s);
  if (++secureCount === 1 && spec.setSecureContextAfterFirst) server.setSecureContext(conv(spec.setSecureContextAfterFirst));
}
let server;
try {
  server = tls.createServer(o, onSecure);
} catch (e) {
  out(errLine('createError', e));
  out({event: 'listening', port: 0});
}
if (server) {
  for (const [host, ctx] of Object.entries(spec.contexts || {})) server.addContext(host, conv(ctx));
  for (const c of spec.calls || []) {
    try {
      if (c.call === 'getTicketKeys') out({event: 'call', call: c.call, result: server.getTicketKeys().toString('hex')});
      else if (c.call === 'setTicketKeys') { server.setTicketKeys(Buffer.from(c.hex, 'hex')); out({event: 'call', call: c.call, result: null}); }
      else if (c.call === 'setSecureContext') { server.setSecureContext(conv(c.options)); out({event: 'call', call: c.call, result: null}); }
      else if (c.call === 'addContext') { server.addContext(c.host, conv(c.options)); out({event: 'call', call: c.call, result: null}); }
      else out({event: 'call', call: c.call, code: 'UNKNOWN_CALL', message: c.call});
    } catch (e) {
      out({event: 'call', call: c.call, code: e.code ?? null, message: e.message});
    }
  }
  server.on('tlsClientError', (e, s) => {
    out(Object.assign(errLine('tlsClientError', e), {servername: (s && s.servername) || null}));
    if (spec.destroyOnError !== false) s.destroy();
  });
  if (spec.sessionCache) {
    const cache = new Map();
    server.on('newSession', (id, data, cb) => { out({event: 'newSession', id: id.toString('hex')}); cache.set(id.toString('hex'), data); cb(); });
    server.on('resumeSession', (id, cb) => {
      const d = cache.get(id.toString('hex'));
      out({event: 'resumeSession', id: id.toString('hex'), found: !!d});
      cb(null, d ? (spec.sessionCacheInvalid ? Buffer.from('INVALID SESSION') : d) : null);
    });
  }
  if (spec.keylog) server.on('keylog', (line, s) => out({event: 'keylog', label: line.toString().split(' ')[0],
    newline: line[line.length - 1] === 10, socket: s instanceof tls.TLSSocket}));
  if (spec.ocsp) server.on('OCSPRequest', (cert, issuer, cb) => {
    out({event: 'OCSPRequest', cert: sha(cert), issuer: issuer ? sha(issuer) : null});
    if (spec.ocsp === 'error') cb(new Error('OCSP error'));
    else if (spec.ocsp === 'null') cb(null, null);
    else cb(null, Buffer.from(spec.ocsp, 'hex'));
  });
  server.listen(0, '127.0.0.1', () => out({event: 'listening', port: server.address().port}));
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`
