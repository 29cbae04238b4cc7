package tls

import (
	"sync"

	"github.com/nodetls/nodetls/openssl"
)

// The certificates of recent ca option texts, parsed once. Node parses the
// ca option on every createSecureContext, and so on every tls.connect made
// without a secureContext; on OpenSSL 3.0 parsing a certificate costs about
// 110 us (its key decoders), so a client that connects with the same ca text
// again and again spent more on that than on its side of a TLS 1.3
// handshake, and a bundle of 140 CAs cost 15 ms a connection. CA
// certificates are public and OpenSSL shares them between trust stores by
// reference, so contexts made from the same text share the parsed objects.
//
// The cache holds at most caCacheEntries texts and caCacheBytes of text, and
// drops the least recently used first.
const (
	caCacheEntries = 32
	caCacheBytes   = 4 << 20
)

var caCache struct {
	sync.Mutex
	entries map[string][]*openssl.Certificate
	order   []string // least recently used first
	bytes   int
}

// caCertificates returns the certificates of a ca option text (junk between
// them ignored, as in Node), as references the caller frees.
func caCertificates(pem []byte) []*openssl.Certificate {
	key := string(pem)
	caCache.Lock()
	certs, ok := caCache.entries[key]
	if ok {
		caCacheTouch(key)
		out := refs(certs)
		caCache.Unlock()
		return out
	}
	caCache.Unlock()

	// Parse without the lock: a large bundle takes milliseconds, and other
	// texts need not wait for it.
	certs, _ = openssl.ParseCertificatesPEM(pem)
	if len(key) > caCacheBytes {
		return certs // too big to keep: the caller's own
	}
	caCache.Lock()
	defer caCache.Unlock()
	if cached, ok := caCache.entries[key]; ok { // parsed meanwhile by another caller
		for _, c := range certs {
			c.Free()
		}
		caCacheTouch(key)
		return refs(cached)
	}
	caCacheAdd(key, certs)
	return refs(certs)
}

// refs returns new references to certs.
func refs(certs []*openssl.Certificate) []*openssl.Certificate {
	out := make([]*openssl.Certificate, len(certs))
	for i, c := range certs {
		out[i] = c.Ref()
	}
	return out
}

func caCacheTouch(key string) {
	for i, k := range caCache.order {
		if k == key {
			caCache.order = append(append(caCache.order[:i:i], caCache.order[i+1:]...), key)
			return
		}
	}
}

func caCacheAdd(key string, certs []*openssl.Certificate) {
	if caCache.entries == nil {
		caCache.entries = map[string][]*openssl.Certificate{}
	}
	for len(caCache.order) > 0 && (len(caCache.order) >= caCacheEntries || caCache.bytes+len(key) > caCacheBytes) {
		old := caCache.order[0]
		caCache.order = caCache.order[1:]
		caCache.bytes -= len(old)
		for _, c := range caCache.entries[old] {
			c.Free()
		}
		delete(caCache.entries, old)
	}
	caCache.entries[key] = certs
	caCache.order = append(caCache.order, key)
	caCache.bytes += len(key)
}
