package openssl

import (
	"bytes"
	"strings"

	"github.com/nodetls/nodetls/cbridge"
)

// PrivateKey is a private key held by OpenSSL (an EVP_PKEY). Free releases it;
// contexts and connections that use the key keep their own reference.
type PrivateKey struct {
	k *cbridge.PKey
}

// Key types as Type reports them (OpenSSL's names).
const (
	KeyTypeRSA     = "RSA"
	KeyTypeEC      = "EC"
	KeyTypeEd25519 = "ED25519"
	KeyTypeEd448   = "ED448"
)

// ParsePrivateKey reads a private key from PEM (the first key block) or DER.
// DER may be PKCS#8, encrypted PKCS#8, PKCS#1 RSA or SEC1 EC; PEM may be any
// of OpenSSL's private key blocks, encrypted ones included. An encrypted key is
// decrypted with passphrase; a wrong or missing passphrase is an *Error with
// OpenSSL's reason "bad decrypt". Input that is no key is OpenSSL's error too
// (for junk, "error:1E08010C:DECODER routines::unsupported", as Node reports).
func ParsePrivateKey(data, passphrase []byte) (*PrivateKey, error) {
	if isPEM(data) {
		return ParsePrivateKeyPEM(data, passphrase)
	}
	k, err := cbridge.PKeyFromDER(data, passphrase)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{k: k}, nil
}

// ParsePrivateKeyPEM reads the first private key of a PEM text, decrypting it
// with passphrase when it is encrypted. A wrong or missing passphrase is an
// *Error with OpenSSL's reason "bad decrypt".
func ParsePrivateKeyPEM(pem []byte, passphrase []byte) (*PrivateKey, error) {
	k, err := cbridge.PKeyFromPEM(pem, passphrase)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{k: k}, nil
}

// isPEM reports whether data holds a PEM block start line.
func isPEM(data []byte) bool { return bytes.Contains(data, []byte("-----BEGIN ")) }

// GenerateRSAKey makes an RSA key of the given modulus size (exponent 65537).
// Sizes OpenSSL refuses (below 512) are its error.
func GenerateRSAKey(bits int) (*PrivateKey, error) {
	return generate("RSA", "", bits)
}

// curveNames maps the NIST names to OpenSSL's group names. Other names are
// passed to OpenSSL as they are, so any group it knows works.
var curveNames = map[string]string{
	"P-256": "prime256v1",
	"P-384": "secp384r1",
	"P-521": "secp521r1",
}

// GenerateECKey makes an EC key on a named curve: "P-256" / "prime256v1",
// "P-384" / "secp384r1", "P-521" / "secp521r1", or another group OpenSSL knows.
func GenerateECKey(curve string) (*PrivateKey, error) {
	if c, ok := curveNames[curve]; ok {
		curve = c
	}
	if curve == "" {
		return nil, cbridge.NewError("EVP_PKEY_Q_keygen", "nodetls", "no curve name")
	}
	return generate("EC", curve, 0)
}

// GenerateEd25519Key makes an Ed25519 key.
func GenerateEd25519Key() (*PrivateKey, error) { return generate("ED25519", "", 0) }

// GenerateEd448Key makes an Ed448 key.
func GenerateEd448Key() (*PrivateKey, error) { return generate("ED448", "", 0) }

func generate(typ, curve string, bits int) (*PrivateKey, error) {
	k, err := cbridge.GeneratePKey(typ, curve, bits)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{k: k}, nil
}

// Type is the key type in OpenSSL's upper-case naming: "RSA", "EC",
// "ED25519", "ED448" (or another OpenSSL type name); "" for a freed key.
func (k *PrivateKey) Type() string {
	if k == nil {
		return ""
	}
	return strings.ToUpper(k.k.Type())
}

// Bits is the key size as OpenSSL counts it (EVP_PKEY_get_bits): the modulus
// for RSA, the group order for EC, 253 for Ed25519 and 456 for Ed448.
func (k *PrivateKey) Bits() int {
	if k == nil {
		return 0
	}
	return k.k.Bits()
}

// MarshalPKCS8PEM writes the key as an unencrypted PKCS#8 "PRIVATE KEY" PEM block.
func (k *PrivateKey) MarshalPKCS8PEM() ([]byte, error) { return k.handle().PKCS8PEM() }

// MarshalEncryptedPKCS8PEM writes the key as an "ENCRYPTED PRIVATE KEY" PEM
// block: PKCS#8 under PBES2 with AES-256-CBC, keyed by passphrase.
func (k *PrivateKey) MarshalEncryptedPKCS8PEM(passphrase []byte) ([]byte, error) {
	return k.handle().EncryptedPKCS8PEM(passphrase)
}

// MarshalDER writes the key as unencrypted PKCS#8 DER (PrivateKeyInfo), the
// one DER form every key type has.
func (k *PrivateKey) MarshalDER() ([]byte, error) { return k.handle().PKCS8DER() }

// PublicKeyDER is the key's public half as SubjectPublicKeyInfo DER.
func (k *PrivateKey) PublicKeyDER() ([]byte, error) { return k.handle().PublicDER() }

// Ref returns a new, independently freed reference to the same key.
func (k *PrivateKey) Ref() *PrivateKey {
	if k == nil {
		return nil
	}
	r := k.k.Ref()
	if r == nil {
		return nil
	}
	return &PrivateKey{k: r}
}

// Free releases the key.
func (k *PrivateKey) Free() {
	if k != nil {
		k.k.Free()
	}
}

// Handle is the cbridge handle, for the layers that pass the key to OpenSSL.
func (k *PrivateKey) Handle() *cbridge.PKey { return k.handle() }

func (k *PrivateKey) handle() *cbridge.PKey {
	if k == nil {
		return nil
	}
	return k.k
}
