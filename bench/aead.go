package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// errNoAEAD is what a contender that has no cipher of its own to measure
// returns from AEAD: nodetls's is OpenSSL's, the C program's.
var errNoAEAD = errors.New("no AEAD job")

// goAEAD is the aead job for crypto/tls: Go's AES-128-GCM seals every chunk
// under a fresh nonce with 5 bytes of additional data (as a TLS 1.3 record)
// and opens it again, on one goroutine. Same work as "sslbench aead".
func goAEAD(total int64, chunk int) (result, error) {
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(i*7 + 1)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return result{}, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return result{}, err
	}
	in := make([]byte, chunk)
	for i := range in {
		in[i] = byte(i*131 + 7)
	}
	out := make([]byte, 0, chunk+g.Overhead())
	back := make([]byte, 0, chunk)
	nonce := make([]byte, 12)
	aad := []byte{23, 3, 3, 0, 0}
	start := time.Now()
	var done int64
	for seq := uint64(0); done < total; seq++ {
		n := int(min(total-done, int64(chunk)))
		for i := range 4 {
			nonce[i] = 0x5a
		}
		binary.BigEndian.PutUint64(nonce[4:], seq)
		for i := 4; i < 12; i++ {
			nonce[i] ^= 0x5a
		}
		binary.BigEndian.PutUint16(aad[3:], uint16(n+g.Overhead()))
		out = g.Seal(out[:0], nonce, in[:n], aad)
		back, err = g.Open(back[:0], nonce, out, aad)
		if err != nil || !bytes.Equal(back, in[:n]) {
			return result{}, fmt.Errorf("aead: a record did not open to what was sealed (%v)", err)
		}
		done += int64(n)
	}
	return result{bytes: done, seconds: time.Since(start).Seconds(), cipher: "AES-128-GCM", version: "none"}, nil
}
