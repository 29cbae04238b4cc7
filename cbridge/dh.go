package cbridge

/*
#include "bridge.h"
nt_result nt_dh_params_from_pem(const char *pem, int len);
int nt_dh_bits(EVP_PKEY *k);
const char *nt_dh_type_name(EVP_PKEY *k);
*/
import "C"

import "runtime"

// DHParamsFromPEM reads the first DH parameter block of a PEM text ("DH
// PARAMETERS" or "X9.42 DH PARAMETERS"). The caller owns the returned key,
// which holds parameters only. Text without a parameter block fails with
// OpenSSL's reason; parameters of another type fail with "not DH parameters".
func DHParamsFromPEM(pem []byte) (*PKey, error) {
	const op = "PEM_read_bio_Parameters"
	if len(pem) > maxCString {
		return nil, NewError(op, "nodetls", "input too large")
	}
	_, p, err := result(op, C.nt_dh_params_from_pem(cChars(pem), C.int(len(pem))))
	runtime.KeepAlive(pem)
	if err != nil {
		return nil, err
	}
	return newPKey((*C.EVP_PKEY)(p)), nil
}

// DHBits is EVP_PKEY_get_bits of DH parameters: the size of the prime in bits
// (0 for a freed handle).
func DHBits(k *PKey) int {
	if k == nil || k.p == nil {
		return 0
	}
	defer runtime.KeepAlive(k)
	return int(C.nt_dh_bits(k.p))
}

// DHTypeName is EVP_PKEY_get0_type_name of DH parameters: "DH" (PKCS#3) or
// "DHX" (X9.42).
func DHTypeName(k *PKey) string {
	if k == nil || k.p == nil {
		return ""
	}
	defer runtime.KeepAlive(k)
	return C.GoString(C.nt_dh_type_name(k.p))
}
