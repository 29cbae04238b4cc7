package openssl

import "github.com/nodetls/nodetls/cbridge"

// PrivateKey is a private key held by OpenSSL (an EVP_PKEY). Free releases it;
// contexts and connections that use the key keep their own reference.
type PrivateKey struct {
	k *cbridge.PKey
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

// Free releases the key.
func (k *PrivateKey) Free() {
	if k != nil {
		k.k.Free()
	}
}

// Handle is the cbridge handle, for the layers that pass the key to OpenSSL.
func (k *PrivateKey) Handle() *cbridge.PKey { return k.k }
