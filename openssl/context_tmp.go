package openssl

import "github.com/nodetls/nodetls/cbridge"

// TEMPORARY (engine branch): stands in for the real Context until it lands.
type Context struct{ ctx *cbridge.SSLCtx }

// Handle returns the SSL_CTX handle.
func (c *Context) Handle() *cbridge.SSLCtx { return c.ctx }

func tmpContext(cert *Certificate, key *PrivateKey) (*Context, error) {
	var x *cbridge.X509
	var k *cbridge.PKey
	if cert != nil {
		x = cert.x
	}
	if key != nil {
		k = key.k
	}
	c, err := cbridge.TmpNewSSLCtx(x, k)
	if err != nil {
		return nil, err
	}
	c.InstallHooks()
	return &Context{ctx: c}, nil
}
