package cbridge

/*
#include "bridge.h"
*/
import "C"

// X509_V_* verify result codes (the values of the linked headers).
const (
	X509VOK                               = int64(C.X509_V_OK)
	X509VErrUnableToGetIssuerCert         = int64(C.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
	X509VErrUnableToGetCrl                = int64(C.X509_V_ERR_UNABLE_TO_GET_CRL)
	X509VErrUnableToDecryptCertSignature  = int64(C.X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE)
	X509VErrUnableToDecryptCrlSignature   = int64(C.X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE)
	X509VErrUnableToDecodeIssuerPublicKey = int64(C.X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY)
	X509VErrCertSignatureFailure          = int64(C.X509_V_ERR_CERT_SIGNATURE_FAILURE)
	X509VErrCrlSignatureFailure           = int64(C.X509_V_ERR_CRL_SIGNATURE_FAILURE)
	X509VErrCertNotYetValid               = int64(C.X509_V_ERR_CERT_NOT_YET_VALID)
	X509VErrCertHasExpired                = int64(C.X509_V_ERR_CERT_HAS_EXPIRED)
	X509VErrCrlNotYetValid                = int64(C.X509_V_ERR_CRL_NOT_YET_VALID)
	X509VErrCrlHasExpired                 = int64(C.X509_V_ERR_CRL_HAS_EXPIRED)
	X509VErrErrorInCertNotBeforeField     = int64(C.X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD)
	X509VErrErrorInCertNotAfterField      = int64(C.X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD)
	X509VErrErrorInCrlLastUpdateField     = int64(C.X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD)
	X509VErrErrorInCrlNextUpdateField     = int64(C.X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD)
	X509VErrOutOfMem                      = int64(C.X509_V_ERR_OUT_OF_MEM)
	X509VErrDepthZeroSelfSignedCert       = int64(C.X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT)
	X509VErrSelfSignedCertInChain         = int64(C.X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
	X509VErrUnableToGetIssuerCertLocally  = int64(C.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
	X509VErrUnableToVerifyLeafSignature   = int64(C.X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE)
	X509VErrCertChainTooLong              = int64(C.X509_V_ERR_CERT_CHAIN_TOO_LONG)
	X509VErrCertRevoked                   = int64(C.X509_V_ERR_CERT_REVOKED)
	X509VErrInvalidCa                     = int64(C.X509_V_ERR_INVALID_CA)
	X509VErrPathLengthExceeded            = int64(C.X509_V_ERR_PATH_LENGTH_EXCEEDED)
	X509VErrInvalidPurpose                = int64(C.X509_V_ERR_INVALID_PURPOSE)
	X509VErrCertUntrusted                 = int64(C.X509_V_ERR_CERT_UNTRUSTED)
	X509VErrCertRejected                  = int64(C.X509_V_ERR_CERT_REJECTED)
	X509VErrHostnameMismatch              = int64(C.X509_V_ERR_HOSTNAME_MISMATCH)
	X509VErrKeyusageNoCertsign            = int64(C.X509_V_ERR_KEYUSAGE_NO_CERTSIGN)
)
