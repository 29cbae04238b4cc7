package openssl

import "github.com/nodetls/nodetls/cbridge"

// SSL_OP_* bits for ContextOptions.Options and Context.SetOptions, with
// OpenSSL's meanings (values from the linked headers). Bits that OpenSSL 3
// keeps only for source compatibility (OpNoSSLv2) are zero.
const (
	OpNoExtendedMasterSecret         uint64 = cbridge.OpNoExtendedMasterSecret
	OpCleansePlaintext               uint64 = cbridge.OpCleansePlaintext
	OpLegacyServerConnect            uint64 = cbridge.OpLegacyServerConnect
	OpEnableKTLS                     uint64 = cbridge.OpEnableKTLS
	OpTLSExtPadding                  uint64 = cbridge.OpTLSExtPadding
	OpSafariECDHEECDSABug            uint64 = cbridge.OpSafariECDHEECDSABug
	OpIgnoreUnexpectedEOF            uint64 = cbridge.OpIgnoreUnexpectedEOF
	OpAllowClientRenegotiation       uint64 = cbridge.OpAllowClientRenegotiation
	OpDisableTLSExtCANames           uint64 = cbridge.OpDisableTLSExtCANames
	OpAllowNoDHEKex                  uint64 = cbridge.OpAllowNoDHEKex
	OpDontInsertEmptyFragments       uint64 = cbridge.OpDontInsertEmptyFragments
	OpNoQueryMTU                     uint64 = cbridge.OpNoQueryMTU
	OpCookieExchange                 uint64 = cbridge.OpCookieExchange
	OpNoTicket                       uint64 = cbridge.OpNoTicket
	OpCiscoAnyConnect                uint64 = cbridge.OpCiscoAnyConnect
	OpNoSessionResumptionOnRenego    uint64 = cbridge.OpNoSessionResumptionOnRenego
	OpNoCompression                  uint64 = cbridge.OpNoCompression
	OpAllowUnsafeLegacyRenegotiation uint64 = cbridge.OpAllowUnsafeLegacyRenegotiation
	OpNoEncryptThenMac               uint64 = cbridge.OpNoEncryptThenMac
	OpEnableMiddleboxCompat          uint64 = cbridge.OpEnableMiddleboxCompat
	OpPrioritizeChaCha               uint64 = cbridge.OpPrioritizeChaCha
	OpCipherServerPreference         uint64 = cbridge.OpCipherServerPreference
	OpTLSRollbackBug                 uint64 = cbridge.OpTLSRollbackBug
	OpNoAntiReplay                   uint64 = cbridge.OpNoAntiReplay
	OpNoSSLv2                        uint64 = cbridge.OpNoSSLv2
	OpNoSSLv3                        uint64 = cbridge.OpNoSSLv3
	OpNoTLSv1                        uint64 = cbridge.OpNoTLSv1
	OpNoTLSv1_1                      uint64 = cbridge.OpNoTLSv1_1
	OpNoTLSv1_2                      uint64 = cbridge.OpNoTLSv1_2
	OpNoTLSv1_3                      uint64 = cbridge.OpNoTLSv1_3
	OpNoRenegotiation                uint64 = cbridge.OpNoRenegotiation
	OpCryptoProTLSExtBug             uint64 = cbridge.OpCryptoProTLSExtBug
	// OpAll is SSL_OP_ALL, OpenSSL's set of harmless bug workarounds.
	OpAll uint64 = cbridge.OpAll
)

// SSL_MODE_* bits for Context.SetMode and ContextOptions.Mode.
const (
	ModeEnablePartialWrite      int64 = cbridge.ModeEnablePartialWrite
	ModeAcceptMovingWriteBuffer int64 = cbridge.ModeAcceptMovingWriteBuffer
	ModeAutoRetry               int64 = cbridge.ModeAutoRetry
	ModeNoAutoChain             int64 = cbridge.ModeNoAutoChain
	ModeReleaseBuffers          int64 = cbridge.ModeReleaseBuffers
	ModeSendFallbackSCSV        int64 = cbridge.ModeSendFallbackSCSV
)

// SessionCacheMode is a set of SSL_SESS_CACHE_* bits (SSL_CTX_set_session_cache_mode).
type SessionCacheMode int64

// Session cache modes; OpenSSL's default is SessCacheServer.
const (
	SessCacheOff              SessionCacheMode = SessionCacheMode(cbridge.SessCacheOff)
	SessCacheClient           SessionCacheMode = SessionCacheMode(cbridge.SessCacheClient)
	SessCacheServer           SessionCacheMode = SessionCacheMode(cbridge.SessCacheServer)
	SessCacheBoth             SessionCacheMode = SessionCacheMode(cbridge.SessCacheBoth)
	SessCacheNoAutoClear      SessionCacheMode = SessionCacheMode(cbridge.SessCacheNoAutoClear)
	SessCacheNoInternalLookup SessionCacheMode = SessionCacheMode(cbridge.SessCacheNoInternalLookup)
	SessCacheNoInternalStore  SessionCacheMode = SessionCacheMode(cbridge.SessCacheNoInternalStore)
	SessCacheNoInternal       SessionCacheMode = SessionCacheMode(cbridge.SessCacheNoInternal)
	SessCacheUpdateTime       SessionCacheMode = SessionCacheMode(cbridge.SessCacheUpdateTime)
)

// X509_V_FLAG_* bits for Context.SetVerifyFlags.
const (
	VerifyCRLCheck     uint64 = cbridge.VerifyFlagCRLCheck
	VerifyCRLCheckAll  uint64 = cbridge.VerifyFlagCRLCheckAll
	VerifyX509Strict   uint64 = cbridge.VerifyFlagX509Strict
	VerifyPartialChain uint64 = cbridge.VerifyFlagPartialChain
	VerifyTrustedFirst uint64 = cbridge.VerifyFlagTrustedFirst
	VerifyNoCheckTime  uint64 = cbridge.VerifyFlagNoCheckTime
)

// MinDHBits is the smallest DH prime a Context accepts; smaller parameters
// are refused with "DH parameter is less than 1024 bits".
const MinDHBits = 1024

// String returns a pointer to s, for the optional string fields of
// ContextOptions (nil = OpenSSL's default, non-nil = set, even to "").
func String(s string) *string { return &s }

// Int returns a pointer to n, for the optional integer fields of ContextOptions.
func Int(n int) *int { return &n }
