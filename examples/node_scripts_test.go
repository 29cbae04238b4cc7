package examples_test

// The node programs the examples are compared with: each does what its Go
// counterpart does, with Node's tls, and prints the same lines. Arguments
// are file names and options as JSON.

// nodeEchoServer is the echo server of Node's tls.createServer()
// documentation; argv: key file, cert file, CA file ("" for none; with a CA
// it asks for client certificates, like examples/mtlsserver).
const nodeEchoServer = `
const tls = require('tls'), fs = require('fs');
const [keyFile, certFile, caFile] = process.argv.slice(1);
const options = {key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile)};
if (caFile) { options.requestCert = true; options.ca = [fs.readFileSync(caFile)]; }
const server = tls.createServer(options, (socket) => {
  console.log('server connected', socket.authorized ? 'authorized' : 'unauthorized');
  const peer = socket.getPeerCertificate();
  if (caFile && peer && peer.subject) console.log('client certificate:', peer.subject.CN);
  socket.write('welcome!\n');
  socket.setEncoding('utf8');
  socket.pipe(socket);
});
server.on('tlsClientError', (e) => console.log('tlsClientError ' + e.code + ': ' + e.message));
server.listen(0, '127.0.0.1', () => {
  console.log('server bound', server.address().address + ':' + server.address().port);
});
`

// nodeClient is the client of Node's tls.connect() documentation; argv: port,
// then JSON {ca, key, cert: file names, skipIdentity: bool}. An error is
// printed as "error CODE" on stderr, with exit status 1.
const nodeClient = `
const tls = require('tls'), fs = require('fs');
const port = Number(process.argv[1]);
const o = JSON.parse(process.argv[2]);
const options = {host: 'localhost'};
if (o.key) options.key = fs.readFileSync(o.key);
if (o.cert) options.cert = fs.readFileSync(o.cert);
if (o.ca) options.ca = [fs.readFileSync(o.ca)];
if (o.skipIdentity) options.checkServerIdentity = () => { return null; };
const socket = tls.connect(port, options, () => {
  console.log('client connected', socket.authorized ? 'authorized' : 'unauthorized');
  process.stdin.pipe(socket);
  process.stdin.resume();
});
socket.setEncoding('utf8');
socket.on('data', (data) => { console.log(data); });
socket.on('end', () => { console.log('server ends connection'); });
socket.on('error', (e) => { console.error('error ' + e.code); process.exitCode = 1; process.stdin.destroy(); });
`

// nodePSKServer is examples/pskserver; argv: identity, hex key, ciphers.
const nodePSKServer = `
const tls = require('tls');
const [identity, pskHex, ciphers] = process.argv.slice(1);
const psk = Buffer.from(pskHex, 'hex');
const server = tls.createServer({
  ciphers,
  pskCallback(socket, id) {
    if (id !== identity) { console.log('unknown identity "' + id + '"'); return null; }
    return psk;
  },
}, (socket) => {
  console.log('server connected', socket.getProtocol(), socket.getCipher().name);
  socket.write('welcome!\n');
  socket.pipe(socket);
});
server.on('tlsClientError', (e) => console.log('tlsClientError ' + e.code + ': ' + e.message));
server.listen(0, '127.0.0.1', () => {
  console.log('server bound', server.address().address + ':' + server.address().port);
});
`

// nodeSNIServer is examples/sni; argv: default key file, default cert file,
// JSON [[name, key file, cert file], ...] for addContext.
const nodeSNIServer = `
const tls = require('tls'), fs = require('fs');
const [keyFile, certFile, contexts] = process.argv.slice(1);
const server = tls.createServer({key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile)}, (socket) => {
  const name = socket.servername || '-';
  console.log('servername ' + name + ' certificate ' + socket.getCertificate().subject.CN);
  socket.end('hello ' + name + '\n');
});
for (const [name, key, cert] of JSON.parse(contexts)) {
  server.addContext(name, {key: fs.readFileSync(key), cert: fs.readFileSync(cert)});
}
server.on('tlsClientError', (e) => console.log('tlsClientError ' + e.code + ': ' + e.message));
server.listen(0, '127.0.0.1', () => {
  console.log('server bound', server.address().address + ':' + server.address().port);
});
`

// nodeSeclevel is examples/seclevel; argv: level, version, key file, cert file.
const nodeSeclevel = `
const tls = require('tls'), fs = require('fs');
const [level, version, keyFile, certFile] = process.argv.slice(1);
const key = fs.readFileSync(keyFile), cert = fs.readFileSync(certFile);
const ciphers = 'DEFAULT@SECLEVEL=' + level;
const server = tls.createServer({key, cert, ciphers, minVersion: 'TLSv1'}, function(socket) {
  console.log('Client connected with protocol:', socket.getProtocol());
  socket.end();
  this.close();
});
server.on('tlsClientError', (e) => { console.log('server error', e.code); process.exitCode = 1; server.close(); });
server.listen(0, '127.0.0.1', () => {
  const c = tls.connect({port: server.address().port, host: '127.0.0.1', servername: 'localhost',
                         ca: cert, ciphers, minVersion: 'TLSv1', maxVersion: version});
  c.on('error', (e) => { console.log('client error', e.code); process.exitCode = 1; });
  c.on('data', () => {});
});
`
