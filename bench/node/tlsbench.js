'use strict';
// tlsbench.js — node's tls as a contender of nodetls's benchmark.
//
// The server runs on the main thread and the client on a worker thread (two
// event loops, like the other contenders' two threads), over loopback TCP.
// Same arguments and one-line report as bench/c/sslbench.c.
const tls = require('tls');
const fs = require('fs');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

function parseArgs(argv) {
  const o = { mode: argv[0], bytes: 1 << 30, chunk: 16384, dir: 'c2s', count: 1000, reply: 2048, version: '1.3', cipher: '' };
  for (let i = 1; i < argv.length; i += 2) {
    const k = argv[i].replace(/^-/, ''), v = argv[i + 1];
    o[k] = ['bytes', 'chunk', 'count', 'reply'].includes(k) ? Number(v) : v;
  }
  return o;
}

function tlsOptions(o) {
  const v = o.version === '1.2' ? 'TLSv1.2' : 'TLSv1.3';
  const opts = { minVersion: v, maxVersion: v };
  if (o.cipher) opts.ciphers = o.cipher;
  return opts;
}

const now = () => process.hrtime.bigint();

// rr: requests of RR_REQUEST bytes, replies of o.reply bytes (as sslbench.c).
const RR_REQUEST = 64;

function replyBuffer(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 0xff;
  return b;
}

// rrServer answers each whole request with the reply.
function rrServer(sock, reply) {
  const resp = replyBuffer(reply);
  let pending = 0;
  sock.on('data', (d) => {
    pending += d.length;
    while (pending >= RR_REQUEST) {
      pending -= RR_REQUEST;
      sock.write(resp);
    }
  });
}

// rrClient sends a request, waits for the whole reply, count times.
function rrClient(sock, count, reply, done) {
  const req = Buffer.alloc(RR_REQUEST, 'q');
  const want = replyBuffer(reply);
  let i = 0, got = 0, last = [];
  sock.on('data', (d) => {
    got += d.length;
    if (i === count) last.push(d);
    if (got < reply) return;
    if (got > reply) throw new Error('more reply than asked for');
    got = 0;
    if (i === count) {
      if (!Buffer.concat(last).equals(want)) throw new Error('the last reply differs from what the server sent');
      sock.removeAllListeners('data');
      done();
      return;
    }
    i++;
    sock.write(req);
  });
  i++;
  sock.write(req);
}

function send(sock, total, chunk, done) {
  const buf = Buffer.alloc(chunk);
  for (let i = 0; i < chunk; i++) buf[i] = (i * 131 + 7) & 0xff;
  let left = total;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk);
      left -= n;
      const ok = sock.write(n === chunk ? buf : buf.subarray(0, n));
      if (!ok) { sock.once('drain', pump); return; }
    }
    if (done) done();
  };
  pump();
}

function receive(sock, total, done) {
  let got = 0;
  sock.on('data', (d) => {
    got += d.length;
    if (got >= total) { sock.removeAllListeners('data'); done(got); }
  });
}

function client() {
  const o = workerData;
  const copts = { ...tlsOptions(o), host: '127.0.0.1', port: o.port, servername: 'localhost', ca: fs.readFileSync(o.ca) };
  if (o.mode === 'throughput' || o.mode === 'rr') {
    const s = tls.connect(copts, () => {
      s.setNoDelay(true);
      parentPort.postMessage({ ready: true });
      parentPort.once('message', () => {
        if (o.mode === 'rr') rrClient(s, o.count, o.reply, () => parentPort.postMessage({ roundtrips: o.count, end: now() }));
        else if (o.dir === 'c2s') send(s, o.bytes, o.chunk);
        else receive(s, o.bytes, (got) => parentPort.postMessage({ got, end: now() }));
      });
    });
    s.on('error', (e) => { throw e; });
    return;
  }
  let i = 0;
  const one = () => {
    if (i++ === o.count) { parentPort.postMessage({ end: now() }); return; }
    const s = tls.connect(copts, () => {
      if (i === 1) parentPort.postMessage({ cipher: s.getCipher().name, version: s.getProtocol() });
      s.resume();
    });
    s.on('end', () => s.end());
    s.on('close', one);
    s.on('error', (e) => { throw e; });
  };
  one();
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const sopts = { ...tlsOptions(o), key: fs.readFileSync(o.key), cert: fs.readFileSync(o.cert) };
  let serverSock = null, info = {}, t0;
  const server = tls.createServer(sopts, (s) => {
    s.setNoDelay(true);
    if (o.mode === 'handshake') { s.end(); s.resume(); return; }
    serverSock = s;
    begin();
  });
  let worker, workerReady = false;
  const report = (fields) => {
    const parts = Object.entries(fields).map(([k, v]) => `${k}=${v}`);
    console.log(parts.join(' '));
    server.close();
    if (serverSock) serverSock.destroy();
    worker.terminate();
  };
  function begin() {
    if (!serverSock || !workerReady) return;
    info = { cipher: serverSock.getCipher().name, version: serverSock.getProtocol() };
    t0 = now();
    worker.postMessage('go');
    if (o.mode === 'rr') rrServer(serverSock, o.reply);
    else if (o.dir === 'c2s') receive(serverSock, o.bytes, (got) => report({ ...info, bytes: got, seconds: Number(now() - t0) / 1e9 }));
    else send(serverSock, o.bytes, o.chunk);
  }
  server.listen(0, '127.0.0.1', () => {
    if (o.mode === 'handshake') t0 = now();
    worker = new Worker(__filename, { workerData: { ...o, port: server.address().port } });
    worker.on('error', (e) => { console.error(e); process.exit(1); });
    worker.on('message', (m) => {
      if (m.ready) { workerReady = true; begin(); return; }
      if (m.cipher) { info = m; return; }
      if (o.mode === 'handshake') report({ ...info, handshakes: o.count, seconds: Number(m.end - t0) / 1e9 });
      else if (o.mode === 'rr') report({ ...info, roundtrips: m.roundtrips, seconds: Number(m.end - t0) / 1e9 });
      else report({ ...info, bytes: m.got, seconds: Number(m.end - t0) / 1e9 });
    });
  });
}

if (isMainThread) main(); else client();
