package cbridge

/*
#include "bridge.h"
*/
import "C"

// Key type NIDs that name a signature algorithm's signing half.
const (
	NIDRSA          = int(C.EVP_PKEY_RSA)
	NIDRSAPSS       = int(C.EVP_PKEY_RSA_PSS)
	NIDDSA          = int(C.EVP_PKEY_DSA)
	NIDEC           = int(C.EVP_PKEY_EC)
	NIDEd25519      = int(C.NID_ED25519)
	NIDEd448        = int(C.NID_ED448)
	NIDGost2001     = int(C.NID_id_GostR3410_2001)
	NIDGost2012_256 = int(C.NID_id_GostR3410_2012_256)
	NIDGost2012_512 = int(C.NID_id_GostR3410_2012_512)
)
