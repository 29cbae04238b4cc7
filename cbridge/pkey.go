package cbridge

/*
#include <stdlib.h>
#include "x509.h"
*/
import "C"

import (
	"math"
	"runtime"
	"unsafe"
)

// errFreed is the error of a call made with a nil or freed handle.
func errFreed(op, what string) error {
	return NewError(op, "nodetls", what+" is nil or freed")
}

// errTooLarge is the error of an input that does not fit OpenSSL's int lengths.
func errTooLarge(op string) error { return NewError(op, "nodetls", "input too large") }

// takeBytes converts a byte result (malloc'd ptr, length in ret): it copies
// the bytes into Go memory and frees the C buffer.
func takeBytes(op string, r C.nt_result) ([]byte, error) {
	n, p, err := result(op, r)
	if err != nil {
		return nil, err
	}
	defer C.free(p)
	return C.GoBytes(p, C.int(n)), nil
}

// PKeyFromDER reads a DER private key with OpenSSL's decoders: PKCS#8,
// encrypted PKCS#8 (decrypted with passphrase), or the traditional per-type
// forms (PKCS#1 RSA, SEC1 EC). A wrong or missing passphrase fails with
// OpenSSL's "bad decrypt"; bytes after the key are an error.
func PKeyFromDER(der, passphrase []byte) (*PKey, error) {
	const op = "OSSL_DECODER_from_data"
	if len(der) > math.MaxInt32 || len(passphrase) > math.MaxInt32 {
		return nil, errTooLarge(op)
	}
	r := C.nt_pkey_from_der(cBytes(der), C.int(len(der)), cChars(passphrase), C.int(len(passphrase)))
	left, p, err := result(op, r)
	if err != nil {
		return nil, err
	}
	k := newPKey((*C.EVP_PKEY)(p))
	if left != 0 {
		k.Free()
		return nil, NewError(op, "nodetls", "trailing data after the key")
	}
	return k, nil
}

// GeneratePKey makes a new key: typ "RSA" (bits), "EC" (curve, an OpenSSL
// group name such as "prime256v1" or "P-256"), "ED25519" or "ED448".
func GeneratePKey(typ, curve string, bits int) (*PKey, error) {
	if bits < 0 || bits > math.MaxInt32 {
		return nil, NewError("EVP_PKEY_Q_keygen", "nodetls", "invalid key size")
	}
	ct := C.CString(typ)
	defer C.free(unsafePointer(ct))
	cc := C.CString(curve)
	defer C.free(unsafePointer(cc))
	_, p, err := result("EVP_PKEY_Q_keygen", C.nt_pkey_generate(ct, cc, C.int(bits)))
	if err != nil {
		return nil, err
	}
	return newPKey((*C.EVP_PKEY)(p)), nil
}

// Type is OpenSSL's name of the key type (EVP_PKEY_get0_type_name), e.g.
// "RSA", "EC", "ED25519", "ED448"; "" for a freed key.
func (k *PKey) Type() string {
	if k == nil || k.p == nil {
		return ""
	}
	s := C.GoString(C.nt_pkey_type_name(k.p))
	runtime.KeepAlive(k)
	return s
}

// Bits is EVP_PKEY_get_bits: the modulus size for RSA, the group order size
// for EC, 253 for Ed25519, 456 for Ed448; 0 for a freed key.
func (k *PKey) Bits() int {
	if k == nil || k.p == nil {
		return 0
	}
	n := int(C.nt_pkey_bits(k.p))
	runtime.KeepAlive(k)
	return n
}

// PKCS8PEM writes the key as PKCS#8 PEM ("PRIVATE KEY").
func (k *PKey) PKCS8PEM() ([]byte, error) {
	const op = "PEM_write_bio_PKCS8PrivateKey"
	if k == nil || k.p == nil {
		return nil, errFreed(op, "key")
	}
	b, err := takeBytes(op, C.nt_pkey_pkcs8_pem(k.p, nil, 0, 0))
	runtime.KeepAlive(k)
	return b, err
}

// EncryptedPKCS8PEM writes the key as encrypted PKCS#8 PEM ("ENCRYPTED
// PRIVATE KEY", PBES2 with AES-256-CBC) under passphrase, which may be empty.
func (k *PKey) EncryptedPKCS8PEM(passphrase []byte) ([]byte, error) {
	const op = "PEM_write_bio_PKCS8PrivateKey"
	if k == nil || k.p == nil {
		return nil, errFreed(op, "key")
	}
	if len(passphrase) > math.MaxInt32 {
		return nil, errTooLarge(op)
	}
	b, err := takeBytes(op, C.nt_pkey_pkcs8_pem(k.p, cChars(passphrase), C.int(len(passphrase)), 1))
	runtime.KeepAlive(k)
	runtime.KeepAlive(passphrase)
	return b, err
}

// PKCS8DER writes the key as unencrypted PKCS#8 DER (PrivateKeyInfo).
func (k *PKey) PKCS8DER() ([]byte, error) {
	const op = "i2d_PKCS8PrivateKey_bio"
	if k == nil || k.p == nil {
		return nil, errFreed(op, "key")
	}
	b, err := takeBytes(op, C.nt_pkey_pkcs8_der(k.p))
	runtime.KeepAlive(k)
	return b, err
}

// PublicDER writes the public half of the key as SubjectPublicKeyInfo DER.
func (k *PKey) PublicDER() ([]byte, error) {
	const op = "i2d_PUBKEY"
	if k == nil || k.p == nil {
		return nil, errFreed(op, "key")
	}
	b, err := takeBytes(op, C.nt_pkey_public_der(k.p))
	runtime.KeepAlive(k)
	return b, err
}

// unsafePointer converts a C string for C.free.
func unsafePointer(p *C.char) unsafe.Pointer { return unsafe.Pointer(p) }
