package openssl

import "github.com/nodetls/nodetls/cbridge"

// verifyCodeNames are the X509_V_ERR_* codes that have a name of their own in
// VerifyCodeName; every other failure is "UNSPECIFIED".
var verifyCodeNames = map[int64]string{
	cbridge.X509VErrUnableToGetIssuerCert:         "UNABLE_TO_GET_ISSUER_CERT",
	cbridge.X509VErrUnableToGetCrl:                "UNABLE_TO_GET_CRL",
	cbridge.X509VErrUnableToDecryptCertSignature:  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
	cbridge.X509VErrUnableToDecryptCrlSignature:   "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
	cbridge.X509VErrUnableToDecodeIssuerPublicKey: "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
	cbridge.X509VErrCertSignatureFailure:          "CERT_SIGNATURE_FAILURE",
	cbridge.X509VErrCrlSignatureFailure:           "CRL_SIGNATURE_FAILURE",
	cbridge.X509VErrCertNotYetValid:               "CERT_NOT_YET_VALID",
	cbridge.X509VErrCertHasExpired:                "CERT_HAS_EXPIRED",
	cbridge.X509VErrCrlNotYetValid:                "CRL_NOT_YET_VALID",
	cbridge.X509VErrCrlHasExpired:                 "CRL_HAS_EXPIRED",
	cbridge.X509VErrErrorInCertNotBeforeField:     "ERROR_IN_CERT_NOT_BEFORE_FIELD",
	cbridge.X509VErrErrorInCertNotAfterField:      "ERROR_IN_CERT_NOT_AFTER_FIELD",
	cbridge.X509VErrErrorInCrlLastUpdateField:     "ERROR_IN_CRL_LAST_UPDATE_FIELD",
	cbridge.X509VErrErrorInCrlNextUpdateField:     "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
	cbridge.X509VErrOutOfMem:                      "OUT_OF_MEM",
	cbridge.X509VErrDepthZeroSelfSignedCert:       "DEPTH_ZERO_SELF_SIGNED_CERT",
	cbridge.X509VErrSelfSignedCertInChain:         "SELF_SIGNED_CERT_IN_CHAIN",
	cbridge.X509VErrUnableToGetIssuerCertLocally:  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
	cbridge.X509VErrUnableToVerifyLeafSignature:   "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
	cbridge.X509VErrCertChainTooLong:              "CERT_CHAIN_TOO_LONG",
	cbridge.X509VErrCertRevoked:                   "CERT_REVOKED",
	cbridge.X509VErrInvalidCa:                     "INVALID_CA",
	cbridge.X509VErrPathLengthExceeded:            "PATH_LENGTH_EXCEEDED",
	cbridge.X509VErrInvalidPurpose:                "INVALID_PURPOSE",
	cbridge.X509VErrCertUntrusted:                 "CERT_UNTRUSTED",
	cbridge.X509VErrCertRejected:                  "CERT_REJECTED",
	cbridge.X509VErrHostnameMismatch:              "HOSTNAME_MISMATCH",
}

// Verify result codes (X509_V_*) that callers commonly test for; the full set
// is OpenSSL's, and VerifyErrorString gives the text of any of them.
const (
	VerifyOK                              int64 = cbridge.X509VOK
	VerifyErrUnableToGetIssuerCert        int64 = cbridge.X509VErrUnableToGetIssuerCert
	VerifyErrUnableToGetIssuerCertLocally int64 = cbridge.X509VErrUnableToGetIssuerCertLocally
	VerifyErrUnableToVerifyLeafSignature  int64 = cbridge.X509VErrUnableToVerifyLeafSignature
	VerifyErrDepthZeroSelfSignedCert      int64 = cbridge.X509VErrDepthZeroSelfSignedCert
	VerifyErrSelfSignedCertInChain        int64 = cbridge.X509VErrSelfSignedCertInChain
	VerifyErrCertHasExpired               int64 = cbridge.X509VErrCertHasExpired
	VerifyErrCertNotYetValid              int64 = cbridge.X509VErrCertNotYetValid
	VerifyErrCertRevoked                  int64 = cbridge.X509VErrCertRevoked
	VerifyErrKeyUsageNoCertSign           int64 = cbridge.X509VErrKeyusageNoCertsign
)

// VerifyCodeName names a verify result as Node's error codes do: the
// X509_V_ERR_ name without its prefix ("CERT_HAS_EXPIRED") for the 28 codes
// Node names, "UNSPECIFIED" for every other failure, and "OK" for X509_V_OK.
func VerifyCodeName(code int64) string {
	if code == cbridge.X509VOK {
		return "OK"
	}
	if n, ok := verifyCodeNames[code]; ok {
		return n
	}
	return "UNSPECIFIED"
}
