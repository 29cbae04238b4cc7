package cbridge

/*
#include "bridge.h"
nt_result nt_pkey_from_pem(const char *pem, int len, const char *pass, int passlen);
nt_result nt_x509_next_pem(const char *pem, int len, int off);
*/
import "C"

import "math"

// PKeyFromPEM reads the first private key of a PEM text (PEM_read_bio_PrivateKey),
// decrypting it with passphrase when it is encrypted. A wrong or missing
// passphrase fails with OpenSSL's reason ("bad decrypt").
func PKeyFromPEM(pem, passphrase []byte) (*PKey, error) {
	if len(pem) > math.MaxInt32 || len(passphrase) > math.MaxInt32 {
		return nil, NewError("PEM_read_bio_PrivateKey", "nodetls", "input too large")
	}
	r := C.nt_pkey_from_pem(cChars(pem), C.int(len(pem)), cChars(passphrase), C.int(len(passphrase)))
	_, p, err := result("PEM_read_bio_PrivateKey", r)
	if err != nil {
		return nil, err
	}
	return newPKey((*C.EVP_PKEY)(p)), nil
}

// X509sFromPEM reads every certificate block of a PEM text, in order
// (PEM_read_bio_X509_AUX: CERTIFICATE, X509 CERTIFICATE, TRUSTED CERTIFICATE).
// Empty input gives no certificates and no error. Text without any block fails
// with OpenSSL's "no start line"; a damaged block
// fails with its own reason.
func X509sFromPEM(pem []byte) ([]*X509, error) {
	if len(pem) > math.MaxInt32 {
		return nil, NewError("PEM_read_bio_X509_AUX", "nodetls", "input too large")
	}
	var out []*X509
	off := 0
	for {
		r := C.nt_x509_next_pem(cChars(pem), C.int(len(pem)), C.int(off))
		next, p, err := result("PEM_read_bio_X509_AUX", r)
		if err != nil {
			if next == -1 && len(out) > 0 {
				return out, nil // no further block after at least one
			}
			for _, x := range out {
				x.Free()
			}
			return nil, err
		}
		if p == nil {
			return out, nil
		}
		out = append(out, newX509((*C.X509)(p)))
		off = int(next)
	}
}
