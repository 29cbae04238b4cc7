package tls_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/nodetls/nodetls/internal/nodeoracle"
	"github.com/nodetls/nodetls/internal/testpki"
	"github.com/nodetls/nodetls/openssl"
	"github.com/nodetls/nodetls/tls"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verifyOracleScript answers {key, cert, ca, servername} with what a node
// client with rejectUnauthorized: false sees of a node server holding that
// key and chain: authorized and authorizationError (a verify code, or
// checkServerIdentity's), or the error of a handshake that fails.
const verifyOracleScript = `
const tls = require('tls');
async function answer(req) {
  let server;
  try {
    server = tls.createServer({key: req.key, cert: req.cert});
  } catch (e) {
    return {serverError: e.code ?? e.message};
  }
  server.on('tlsClientError', () => {});
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const reply = await new Promise((resolve) => {
    const options = {port: server.address().port, host: '127.0.0.1', servername: req.servername, rejectUnauthorized: false};
    if (req.ca) options.ca = req.ca;
    if (req.crl) options.crl = req.crl;
    const c = tls.connect(options, () => {
      resolve({authorized: c.authorized, authorizationError: c.authorizationError ?? null});
      c.destroy();
    });
    c.on('error', (e) => resolve({error: e.code ?? e.message}));
  });
  server.close();
  return reply;
}
`

// verifyReply is the oracle's answer, and the same for nodetls.
type verifyReply struct {
	ServerError        string `json:"serverError,omitempty"`
	Authorized         bool   `json:"authorized"`
	AuthorizationError string `json:"authorizationError,omitempty"`
	Error              string `json:"error,omitempty"`
	OracleError        string `json:"oracleError,omitempty"`
}

// Bits of FuzzVerify's flags.
const (
	vfIntermediate      = 1 << iota // the leaf is issued by an intermediate CA
	vfPathLen                       // the intermediate has pathlen 0 and issues another intermediate
	vfNoKeyCertSign                 // the issuing CA's key usage lacks keyCertSign
	vfClientAuthOnly                // the leaf's extended key usage is clientAuth only
	vfCodeSigningOnly               // the leaf has no extended key usage
	vfLeafOnly                      // the server sends the leaf without intermediates
	vfTrustIntermediate             // the client trusts the issuing intermediate, not the root
	vfNoCA                          // the client gives no ca (the default roots)
	vfSelfSigned                    // the leaf is self-signed
	vfWildcard                      // the leaf's name is *.example.com
	vfIPName                        // the leaf's name is 127.0.0.1
	vfServernameOther               // the client asks for a.example.com
	vfRootExpired                   // the root's validity ended yesterday
	vfCRL                           // the verifying side has a CRL of the leaf's issuer (crl option)
	vfRevoked                       // that CRL revokes the leaf
	vfCRLExpired                    // that CRL's nextUpdate was yesterday
)

// FuzzVerify builds a certificate chain from the fuzz arguments — validity
// of the leaf and its issuer (days from now), an intermediate, path length
// and key usage violations, extended key usages, what the server sends and
// what the client trusts, the names — and compares what a nodetls client
// sees (Authorized, AuthorizationError's code) of a nodetls server holding
// that chain with what a node client sees of a node server: the verify code
// (CERT_HAS_EXPIRED, UNABLE_TO_GET_ISSUER_CERT, INVALID_PURPOSE, ...) or
// checkServerIdentity's ERR_TLS_CERT_ALTNAME_INVALID, in Node's order.
//
// Keys are ECDSA P-256 and signatures SHA-256, so the security levels
// (Node's 1, the system's 2) decide no outcome.
func FuzzVerify(f *testing.F) {
	for _, s := range []struct {
		leafFrom, leafTo, caFrom, caTo int8
		flags                          uint16
	}{
		{-1, 30, -10, 100, 0},
		{-30, -1, -10, 100, 0},                          // leaf expired
		{1, 30, -10, 100, 0},                            // leaf not yet valid
		{-1, 30, -10, -2, vfIntermediate},               // intermediate expired
		{-1, 30, -10, 100, vfIntermediate | vfLeafOnly}, // missing intermediate
		{-1, 30, -10, 100, vfIntermediate | vfTrustIntermediate},
		{-1, 30, -10, 100, vfIntermediate | vfPathLen},
		{-1, 30, -10, 100, vfNoKeyCertSign},
		// Found by the fuzzer: an intermediate without keyCertSign (not a CA
		// to X509_check_ca) is still part of the leaf's chain.
		{-1, 30, -10, 100, vfIntermediate | vfNoKeyCertSign},
		{-1, 30, -10, 100, vfClientAuthOnly},
		{-1, 30, -10, 100, vfCodeSigningOnly},
		{-1, 30, -10, 100, vfNoCA},
		{-1, 30, -10, 100, vfSelfSigned},
		{-1, 30, -10, 100, vfSelfSigned | vfNoCA},
		{-1, 30, -10, 100, vfWildcard},
		{-1, 30, -10, 100, vfWildcard | vfServernameOther},
		{-1, 30, -10, 100, vfIPName},
		{-1, 30, -10, 100, vfServernameOther},
		{-30, -1, -10, 100, vfServernameOther}, // expired and the wrong name
		{-1, 30, -10, 100, vfRootExpired | vfIntermediate},
		// Revocation: the crl option checks the whole chain.
		{-1, 30, -10, 100, vfCRL},
		{-1, 30, -10, 100, vfRevoked},
		{-1, 30, -10, 100, vfCRLExpired},
		{-1, 30, -10, 100, vfIntermediate | vfCRL},
		{-1, 30, -10, 100, vfSelfSigned | vfRevoked},
	} {
		f.Add(s.leafFrom, s.leafTo, s.caFrom, s.caTo, s.flags)
	}
	oracle := nodeoracle.Start(f, verifyOracleScript)
	f.Fuzz(func(t *testing.T, leafFrom, leafTo, caFrom, caTo int8, flags uint16) {
		key, chain, ca, crl, servername := verifyFuzzChain(t, leafFrom, leafTo, caFrom, caTo, flags)
		req := map[string]string{"key": string(key), "cert": string(chain), "ca": string(ca), "crl": string(crl), "servername": servername}
		var want verifyReply
		oracle.Ask(t, req, &want)
		require.Empty(t, want.OracleError)
		got := goVerifyReply(t, key, chain, ca, crl, servername)
		assert.Equal(t, want, got, "flags %#x, leaf %d..%d, issuer %d..%d days", flags, leafFrom, leafTo, caFrom, caTo)
	})
}

// verifyFuzzChain makes the server's key and chain, the client's CA (nil:
// none) and the name it asks for, as FuzzVerify's arguments say.
func verifyFuzzChain(t *testing.T, leafFrom, leafTo, caFrom, caTo int8, flags uint16) (key, chain, ca, crl []byte, servername string) {
	now := time.Now().Truncate(time.Second)
	day := func(n int8) time.Time { return now.Add(time.Duration(n) * 24 * time.Hour) }
	has := func(bit uint16) bool { return flags&bit != 0 }
	issuerOpts := testpki.Options{Key: testpki.ECDSAP256, NotBefore: day(caFrom), NotAfter: day(caTo),
		NoKeyCertSign: has(vfNoKeyCertSign)}
	rootOpts := testpki.Options{Key: testpki.ECDSAP256}
	if !has(vfIntermediate) {
		rootOpts = issuerOpts // the root issues the leaf
	}
	if has(vfRootExpired) {
		rootOpts.NotBefore, rootOpts.NotAfter = day(-30), day(-1)
	}
	root := testpki.NewCA(t, rootOpts)
	issuer := root
	switch {
	case has(vfIntermediate) && has(vfPathLen):
		zero := 0
		top := root.Intermediate(t, testpki.Options{Key: testpki.ECDSAP256, PathLen: &zero})
		issuerOpts.CommonName = "issuing CA" // not self-issued: it counts against the path length
		issuer = top.Intermediate(t, issuerOpts)
	case has(vfIntermediate):
		issuer = root.Intermediate(t, issuerOpts)
	}
	host := "localhost"
	switch {
	case has(vfWildcard):
		host = "*.example.com"
	case has(vfIPName):
		host = "127.0.0.1"
	}
	leafOpts := testpki.Options{Key: testpki.ECDSAP256, NotBefore: day(leafFrom), NotAfter: day(leafTo)}
	switch {
	case has(vfClientAuthOnly):
		leafOpts.ClientAuth = true
	case has(vfCodeSigningOnly):
		leafOpts.ExtKeyUsage = []string{"codeSigning"}
	}
	var leaf *testpki.Leaf
	if has(vfSelfSigned) {
		leaf = testpki.SelfSigned(t, leafOpts, host)
	} else {
		leaf = issuer.Leaf(t, leafOpts, host)
	}
	chain = leaf.ChainPEM
	if has(vfLeafOnly) {
		chain = leaf.CertPEM
	}
	switch {
	case has(vfNoCA):
	case has(vfSelfSigned):
		ca = leaf.CertPEM
	case has(vfTrustIntermediate):
		ca = issuer.CertPEM
	default:
		ca = root.CertPEM
	}
	servername = "localhost"
	if has(vfServernameOther) {
		servername = "a.example.com"
	}
	if has(vfCRL) || has(vfRevoked) || has(vfCRLExpired) {
		issuerCert, issuerKey := issuer.Cert, issuer.Key
		if has(vfSelfSigned) {
			issuerCert, issuerKey = leaf.Cert, leaf.Key
		}
		var revoked []openssl.RevokedCertificate
		if has(vfRevoked) {
			revoked = append(revoked, openssl.RevokedCertificate{Serial: leaf.Serial})
		}
		next := day(30)
		if has(vfCRLExpired) {
			next = day(-1)
		}
		var err error
		crl, err = openssl.CreateCRL(issuerCert, issuerKey, revoked, day(-2), next)
		require.NoError(t, err)
	}
	return leaf.KeyPEM, chain, ca, crl, servername
}

// goVerifyReply is verifyReply for a nodetls client of a nodetls server.
func goVerifyReply(t *testing.T, key, chain, ca, crl []byte, servername string) verifyReply {
	srv, err := tls.CreateServer(tls.ServerOptions{SecureContextOptions: tls.SecureContextOptions{Key: key, Cert: chain}},
		func(s *tls.Socket) { s.Destroy() })
	if err != nil {
		return verifyReply{ServerError: errCode(err)}
	}
	srv.OnTLSClientError(func(error, *tls.Socket) {})
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	defer srv.Close()
	reject := false
	s, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: srv.Address().(*net.TCPAddr).Port,
		Servername: servername, RejectUnauthorized: &reject, SecureContextOptions: tls.SecureContextOptions{CA: ca, CRL: crl}})
	if err != nil {
		return verifyReply{Error: errCode(err)}
	}
	defer s.Destroy()
	r := verifyReply{Authorized: s.Authorized()}
	if err := s.AuthorizationError(); err != nil {
		r.AuthorizationError = errCode(err)
	}
	return r
}

// errCode is what Node shows of err where a string is wanted (e.code ??
// e.message): the *tls.Error's code, else its message.
func errCode(err error) string {
	var te *tls.Error
	if errors.As(err, &te) {
		if te.Code != "" {
			return te.Code
		}
		return te.Message
	}
	return err.Error()
}

// clientCertOracleScript answers {key, cert, ca, serverKey, serverCert}
// with what a node server with requestCert and rejectUnauthorized: false,
// trusting ca, sees of a node client presenting key and cert: authorized
// and authorizationError on its secureConnection, or the error a failed
// handshake gave the server (tlsClientError).
const clientCertOracleScript = `
const tls = require('tls');
async function answer(req) {
  const options = {key: req.serverKey, cert: req.serverCert, requestCert: true, rejectUnauthorized: false};
  if (req.ca) options.ca = req.ca;
  if (req.crl) options.crl = req.crl;
  const server = tls.createServer(options);
  const reply = new Promise((resolve) => {
    server.on('secureConnection', (s) => {
      resolve({authorized: s.authorized, authorizationError: s.authorizationError ?? null});
      s.destroy();
    });
    server.on('tlsClientError', (e) => resolve({error: e.code ?? e.message}));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  let c;
  try {
    c = tls.connect({port: server.address().port, host: '127.0.0.1', key: req.key, cert: req.cert,
      rejectUnauthorized: false});
    c.on('error', () => {});
  } catch (e) {
    server.close();
    return {serverError: 'client: ' + (e.code ?? e.message)};
  }
  const r = await reply;
  c.destroy();
  server.close();
  return r;
}
`

// FuzzVerifyClientCert is FuzzVerify for client certificates: a node and
// a nodetls server that request a certificate (trusting the chain's root,
// or what the flags say) and do not reject, each seeing a client of its
// own kind present the chain built from the fuzz arguments; both servers
// must report the same authorized and authorizationError.
func FuzzVerifyClientCert(f *testing.F) {
	for _, s := range []struct {
		leafFrom, leafTo, caFrom, caTo int8
		flags                          uint16
	}{
		{-1, 30, -10, 100, vfClientAuthOnly},
		{-30, -1, -10, 100, 0},
		{1, 30, -10, 100, 0},
		{-1, 30, -10, -2, vfIntermediate},
		{-1, 30, -10, 100, vfIntermediate | vfLeafOnly},
		{-1, 30, -10, 100, vfIntermediate | vfTrustIntermediate},
		{-1, 30, -10, 100, vfIntermediate | vfPathLen},
		{-1, 30, -10, 100, vfIntermediate | vfNoKeyCertSign},
		{-1, 30, -10, 100, vfCodeSigningOnly},
		{-1, 30, -10, 100, vfNoCA},
		{-1, 30, -10, 100, vfSelfSigned},
		{-1, 30, -10, 100, vfSelfSigned | vfNoCA},
		{-1, 30, -10, 100, vfRootExpired | vfIntermediate},
		{-1, 30, -10, 100, vfClientAuthOnly | vfRevoked},
		{-1, 30, -10, 100, vfClientAuthOnly | vfCRLExpired},
		{-1, 30, -10, 100, vfClientAuthOnly | vfIntermediate | vfCRL},
	} {
		f.Add(s.leafFrom, s.leafTo, s.caFrom, s.caTo, s.flags)
	}
	server := testpki.SelfSigned(f, testpki.Options{Key: testpki.ECDSAP256}, "localhost")
	oracle := nodeoracle.Start(f, clientCertOracleScript)
	f.Fuzz(func(t *testing.T, leafFrom, leafTo, caFrom, caTo int8, flags uint16) {
		key, chain, ca, crl, _ := verifyFuzzChain(t, leafFrom, leafTo, caFrom, caTo, flags)
		req := map[string]string{"key": string(key), "cert": string(chain), "ca": string(ca), "crl": string(crl),
			"serverKey": string(server.KeyPEM), "serverCert": string(server.CertPEM)}
		var want verifyReply
		oracle.Ask(t, req, &want)
		require.Empty(t, want.OracleError)
		got := goClientCertReply(t, key, chain, ca, crl, server)
		assert.Equal(t, want, got, "flags %#x, leaf %d..%d, issuer %d..%d days", flags, leafFrom, leafTo, caFrom, caTo)
	})
}

// goClientCertReply is clientCertOracleScript's answer for a nodetls
// server and client.
func goClientCertReply(t *testing.T, key, chain, ca, crl []byte, server *testpki.Leaf) verifyReply {
	reject := false
	replies := make(chan verifyReply, 2)
	srv, err := tls.CreateServer(tls.ServerOptions{
		SecureContextOptions: tls.SecureContextOptions{Key: server.KeyPEM, Cert: server.CertPEM, CA: ca, CRL: crl},
		RequestCert:          true, RejectUnauthorized: &reject,
	}, func(s *tls.Socket) {
		r := verifyReply{Authorized: s.Authorized()}
		if err := s.AuthorizationError(); err != nil {
			r.AuthorizationError = errCode(err)
		}
		replies <- r
		s.Destroy()
	})
	require.NoError(t, err)
	srv.OnTLSClientError(func(err error, s *tls.Socket) { replies <- verifyReply{Error: errCode(err)} })
	require.NoError(t, srv.Listen("127.0.0.1:0"))
	defer srv.Close()
	c, err := tls.Connect(tls.ConnectOptions{Host: "127.0.0.1", Port: srv.Address().(*net.TCPAddr).Port,
		RejectUnauthorized: &reject, SecureContextOptions: tls.SecureContextOptions{Key: key, Cert: chain}})
	if c != nil {
		defer c.Destroy()
	}
	var te *tls.Error
	if errors.As(err, &te) && te.Code == "ERR_OSSL_X509_KEY_VALUES_MISMATCH" {
		return verifyReply{ServerError: "client: " + errCode(err)}
	}
	select {
	case r := <-replies:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("the server reported nothing (client: %v)", err)
		return verifyReply{}
	}
}
