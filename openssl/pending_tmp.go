package openssl

// TEMPORARY (tls branch): stand-ins until the verify and sessions branches land.

// VerifyErrUnableToGetIssuerCert is X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT.
const VerifyErrUnableToGetIssuerCert = 2

var tmpVerifyNames = map[int64]string{2: "UNABLE_TO_GET_ISSUER_CERT", 10: "CERT_HAS_EXPIRED", 9: "CERT_NOT_YET_VALID",
	18: "DEPTH_ZERO_SELF_SIGNED_CERT", 19: "SELF_SIGNED_CERT_IN_CHAIN", 20: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
	21: "UNABLE_TO_VERIFY_LEAF_SIGNATURE", 23: "CERT_REVOKED"}

// VerifyCodeName (temporary).
func VerifyCodeName(code int64) string {
	if n, ok := tmpVerifyNames[code]; ok {
		return n
	}
	return "UNSPECIFIED"
}
