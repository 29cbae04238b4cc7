package cbridge

/*
#include <stdlib.h>
#include "x509.h"
nt_result nt_x509_next_pem(const char *pem, int len, int off);
*/
import "C"

import (
	"encoding/binary"
	"math"
	"runtime"
)

// X509FromPEM reads the first certificate block of a PEM text
// (PEM_read_bio_X509_AUX: CERTIFICATE, X509 CERTIFICATE, TRUSTED CERTIFICATE).
func X509FromPEM(pem []byte) (*X509, error) {
	const op = "PEM_read_bio_X509_AUX"
	if len(pem) > math.MaxInt32 {
		return nil, errTooLarge(op)
	}
	_, p, err := result(op, C.nt_x509_next_pem(cChars(pem), C.int(len(pem)), 0))
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, NewError(op, "nodetls", "no certificate found")
	}
	return newX509((*C.X509)(p)), nil
}

// X509FromDER reads one DER certificate (d2i_X509) and reports how many bytes
// it took, so callers can read concatenated certificates.
func X509FromDER(der []byte) (*X509, int, error) {
	const op = "d2i_X509"
	if len(der) > math.MaxInt32 {
		return nil, 0, errTooLarge(op)
	}
	n, p, err := result(op, C.nt_x509_from_der(cBytes(der), C.int(len(der))))
	if err != nil {
		return nil, 0, err
	}
	return newX509((*C.X509)(p)), int(n), nil
}

// DER is the certificate's DER encoding (i2d_X509).
func (x *X509) DER() ([]byte, error) {
	const op = "i2d_X509"
	if x == nil || x.p == nil {
		return nil, errFreed(op, "certificate")
	}
	b, err := takeBytes(op, C.nt_x509_der(x.p))
	runtime.KeepAlive(x)
	return b, err
}

// PEM is the certificate as a "CERTIFICATE" PEM block (PEM_write_bio_X509).
func (x *X509) PEM() ([]byte, error) {
	const op = "PEM_write_bio_X509"
	if x == nil || x.p == nil {
		return nil, errFreed(op, "certificate")
	}
	b, err := takeBytes(op, C.nt_x509_pem(x.p))
	runtime.KeepAlive(x)
	return b, err
}

// PublicDER is the certificate's SubjectPublicKeyInfo, DER encoded.
func (x *X509) PublicDER() ([]byte, error) {
	const op = "i2d_X509_PUBKEY"
	if x == nil || x.p == nil {
		return nil, errFreed(op, "certificate")
	}
	b, err := takeBytes(op, C.nt_x509_public_der(x.p))
	runtime.KeepAlive(x)
	return b, err
}

// CheckPrivateKey is X509_check_private_key: nil when k is the private half
// of the certificate's key, else OpenSSL's error ("key values mismatch",
// "key type mismatch").
func (x *X509) CheckPrivateKey(k *PKey) error {
	const op = "X509_check_private_key"
	if x == nil || x.p == nil {
		return errFreed(op, "certificate")
	}
	if k == nil || k.p == nil {
		return errFreed(op, "key")
	}
	_, _, err := result(op, C.nt_x509_check_private_key(x.p, k.p))
	runtime.KeepAlive(x)
	runtime.KeepAlive(k)
	return err
}

// Tags of the records Info returns (see x509.h for their payloads).
const (
	InfoSubject        = int(C.NT_INFO_SUBJECT)
	InfoSubjectInvalid = int(C.NT_INFO_SUBJECT_INVALID)
	InfoIssuer         = int(C.NT_INFO_ISSUER)
	InfoIssuerInvalid  = int(C.NT_INFO_ISSUER_INVALID)
	InfoSANBegin       = int(C.NT_INFO_SAN_BEGIN)
	InfoSANName        = int(C.NT_INFO_SAN_NAME)
	InfoSANInvalid     = int(C.NT_INFO_SAN_INVALID)
	InfoAIABegin       = int(C.NT_INFO_AIA_BEGIN)
	InfoAIAEntry       = int(C.NT_INFO_AIA_ENTRY)
	InfoAIAInvalid     = int(C.NT_INFO_AIA_INVALID)
	InfoCA             = int(C.NT_INFO_CA)
	InfoKeyType        = int(C.NT_INFO_KEY_TYPE)
	InfoModulus        = int(C.NT_INFO_MODULUS)
	InfoBits           = int(C.NT_INFO_BITS)
	InfoExponent       = int(C.NT_INFO_EXPONENT)
	InfoPubkey         = int(C.NT_INFO_PUBKEY)
	InfoASN1Curve      = int(C.NT_INFO_ASN1_CURVE)
	InfoNISTCurve      = int(C.NT_INFO_NIST_CURVE)
	InfoValidFrom      = int(C.NT_INFO_VALID_FROM)
	InfoValidTo        = int(C.NT_INFO_VALID_TO)
	InfoEKUBegin       = int(C.NT_INFO_EKU_BEGIN)
	InfoEKU            = int(C.NT_INFO_EKU)
	InfoSerial         = int(C.NT_INFO_SERIAL)
	InfoRaw            = int(C.NT_INFO_RAW)
)

// General name types (GEN_*), as Info reports them and AddSubjectAltNames takes them.
const (
	GenOtherName = int(C.GEN_OTHERNAME)
	GenEmail     = int(C.GEN_EMAIL)
	GenDNS       = int(C.GEN_DNS)
	GenX400      = int(C.GEN_X400)
	GenDirName   = int(C.GEN_DIRNAME)
	GenEDIParty  = int(C.GEN_EDIPARTY)
	GenURI       = int(C.GEN_URI)
	GenIPAddress = int(C.GEN_IPADD)
	GenRID       = int(C.GEN_RID)
)

// Kinds of an othername general name in Info's records.
const (
	OtherNameUnsupported = int(C.NT_OTHERNAME_UNSUPPORTED)
	OtherNameUTF8        = int(C.NT_OTHERNAME_UTF8)
	OtherNameIA5         = int(C.NT_OTHERNAME_IA5)
)

// InfoRecord is one fact about a certificate, as Node's X509ToObject reads it.
type InfoRecord struct {
	Tag  int
	Data []byte
}

// Info reads, in one call, what Node's certificate object is made of: name
// entries, SAN and AIA general names, CA flag, key fields, validity texts,
// extended key usage OIDs, serial and DER. Records come in Node's key order.
func (x *X509) Info() ([]InfoRecord, error) {
	const op = "X509 certificate info"
	if x == nil || x.p == nil {
		return nil, errFreed(op, "certificate")
	}
	blob, err := takeBytes(op, C.nt_x509_info(x.p))
	runtime.KeepAlive(x)
	if err != nil {
		return nil, err
	}
	return infoRecords(op, blob)
}

// IdentityInfo is Info's subject and subjectAltName records alone (what a
// host name check reads), without the rest's cost.
func (x *X509) IdentityInfo() ([]InfoRecord, error) {
	const op = "X509 certificate identity"
	if x == nil || x.p == nil {
		return nil, errFreed(op, "certificate")
	}
	blob, err := takeBytes(op, C.nt_x509_identity(x.p))
	runtime.KeepAlive(x)
	if err != nil {
		return nil, err
	}
	return infoRecords(op, blob)
}

func infoRecords(op string, blob []byte) ([]InfoRecord, error) {
	var out []InfoRecord
	for len(blob) > 0 {
		if len(blob) < 5 {
			return nil, NewError(op, "nodetls", "truncated info record")
		}
		n := binary.LittleEndian.Uint32(blob[1:5])
		if uint64(n) > uint64(len(blob)-5) {
			return nil, NewError(op, "nodetls", "truncated info record")
		}
		out = append(out, InfoRecord{Tag: int(blob[0]), Data: blob[5 : 5+n : 5+n]})
		blob = blob[5+n:]
	}
	return out, nil
}

// ---- building certificates ----

// NewX509 starts an empty version-3 certificate for the builder methods below.
func NewX509() (*X509, error) {
	_, p, err := result("X509_new", C.nt_x509_new_v3())
	if err != nil {
		return nil, err
	}
	return newX509((*C.X509)(p)), nil
}

// appendBlobEntry appends one [kind][u32 LE length][bytes] entry.
func appendBlobEntry(b []byte, kind int, data []byte) []byte {
	b = append(b, byte(kind))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func (x *X509) check(op string) error {
	if x == nil || x.p == nil {
		return errFreed(op, "certificate")
	}
	return nil
}

// SetSerial sets the serial number from its magnitude (big-endian) and sign.
func (x *X509) SetSerial(magnitude []byte, negative bool) error {
	const op = "X509_set_serialNumber"
	if err := x.check(op); err != nil {
		return err
	}
	if len(magnitude) > math.MaxInt32 {
		return errTooLarge(op)
	}
	_, _, err := result(op, C.nt_x509_set_serial(x.p, cBytes(magnitude), C.int(len(magnitude)), cBool(negative)))
	runtime.KeepAlive(x)
	return err
}

// SetValidity sets notBefore and notAfter (Unix seconds).
func (x *X509) SetValidity(notBefore, notAfter int64) error {
	const op = "ASN1_TIME_set"
	if err := x.check(op); err != nil {
		return err
	}
	_, _, err := result(op, C.nt_x509_set_validity(x.p, C.int64_t(notBefore), C.int64_t(notAfter)))
	runtime.KeepAlive(x)
	return err
}

// AddNameEntry appends field=value (UTF-8) as a new RDN of the subject name,
// or of the issuer name when issuer is set. field is a short or long name or
// a dotted OID.
func (x *X509) AddNameEntry(issuer bool, field string, value []byte) error {
	const op = "X509_NAME_add_entry_by_txt"
	if err := x.check(op); err != nil {
		return err
	}
	if len(value) > math.MaxInt32 {
		return errTooLarge(op)
	}
	cf := C.CString(field)
	defer C.free(unsafePointer(cf))
	_, _, err := result(op, C.nt_x509_name_add(x.p, cBool(issuer), cf, cBytes(value), C.int(len(value))))
	runtime.KeepAlive(x)
	return err
}

// CopyIssuerName sets the issuer name to issuer's subject name, or to the
// certificate's own subject name when issuer is nil.
func (x *X509) CopyIssuerName(issuer *X509) error {
	const op = "X509_set_issuer_name"
	if err := x.check(op); err != nil {
		return err
	}
	var ip *C.X509
	if issuer != nil {
		if issuer.p == nil {
			return errFreed(op, "issuer certificate")
		}
		ip = issuer.p
	}
	_, _, err := result(op, C.nt_x509_copy_issuer(x.p, ip))
	runtime.KeepAlive(x)
	runtime.KeepAlive(issuer)
	return err
}

// SetPublicKey puts k's public half in the certificate.
func (x *X509) SetPublicKey(k *PKey) error {
	const op = "X509_set_pubkey"
	if err := x.check(op); err != nil {
		return err
	}
	if k == nil || k.p == nil {
		return errFreed(op, "key")
	}
	_, _, err := result(op, C.nt_x509_set_pubkey(x.p, k.p))
	runtime.KeepAlive(x)
	runtime.KeepAlive(k)
	return err
}

// AddBasicConstraints adds a critical basicConstraints extension; pathLen < 0
// means no path length constraint (only meaningful with ca).
func (x *X509) AddBasicConstraints(ca bool, pathLen int) error {
	const op = "X509_add1_ext_i2d"
	if err := x.check(op); err != nil {
		return err
	}
	if pathLen > math.MaxInt32 {
		return NewError(op, "nodetls", "path length too large")
	}
	_, _, err := result(op, C.nt_x509_add_basic_constraints(x.p, cBool(ca), C.int(pathLen)))
	runtime.KeepAlive(x)
	return err
}

// AddKeyUsage adds keyUsage from OpenSSL's configuration syntax, e.g.
// "critical,digitalSignature,keyCertSign".
func (x *X509) AddKeyUsage(value string) error {
	return x.addConfExt(C.NID_key_usage, value)
}

// AddExtKeyUsage adds extendedKeyUsage from OpenSSL's configuration syntax,
// e.g. "serverAuth,clientAuth" or dotted OIDs.
func (x *X509) AddExtKeyUsage(value string) error {
	return x.addConfExt(C.NID_ext_key_usage, value)
}

func (x *X509) addConfExt(nid C.int, value string) error {
	const op = "X509V3_EXT_nconf_nid"
	if err := x.check(op); err != nil {
		return err
	}
	cv := C.CString(value)
	defer C.free(unsafePointer(cv))
	_, _, err := result(op, C.nt_x509_add_conf_ext(x.p, nid, cv))
	runtime.KeepAlive(x)
	return err
}

// GeneralName is one subjectAltName entry to add: Type is GenDNS, GenEmail,
// GenURI (the IA5String bytes) or GenIPAddress (4 or 16 address bytes).
type GeneralName struct {
	Type  int
	Value []byte
}

// AddSubjectAltNames adds a subjectAltName extension with names, in order.
func (x *X509) AddSubjectAltNames(names []GeneralName) error {
	const op = "X509_add1_ext_i2d"
	if err := x.check(op); err != nil {
		return err
	}
	var blob []byte
	for _, n := range names {
		blob = appendBlobEntry(blob, n.Type, n.Value)
	}
	if len(blob) > math.MaxInt32 {
		return errTooLarge(op)
	}
	_, _, err := result(op, C.nt_x509_add_general_names(x.p, C.NID_subject_alt_name, cBytes(blob), C.int(len(blob))))
	runtime.KeepAlive(x)
	return err
}

// AccessDescription is one authorityInfoAccess entry: an OCSP responder URI,
// or (OCSP false) a CA Issuers URI.
type AccessDescription struct {
	OCSP bool
	URI  []byte
}

// AddAuthorityInfoAccess adds an authorityInfoAccess extension, in order.
func (x *X509) AddAuthorityInfoAccess(entries []AccessDescription) error {
	const op = "X509_add1_ext_i2d"
	if err := x.check(op); err != nil {
		return err
	}
	var blob []byte
	for _, e := range entries {
		kind := int(C.NT_AIA_CA_ISSUERS)
		if e.OCSP {
			kind = int(C.NT_AIA_OCSP)
		}
		blob = appendBlobEntry(blob, kind, e.URI)
	}
	if len(blob) > math.MaxInt32 {
		return errTooLarge(op)
	}
	_, _, err := result(op, C.nt_x509_add_aia(x.p, cBytes(blob), C.int(len(blob))))
	runtime.KeepAlive(x)
	return err
}

// AddSubjectKeyID adds subjectKeyIdentifier: id, or when id is empty the
// SHA-1 of the public key (OpenSSL's "hash"). The public key must be set.
func (x *X509) AddSubjectKeyID(id []byte) error {
	const op = "X509_add1_ext_i2d"
	if err := x.check(op); err != nil {
		return err
	}
	if len(id) > math.MaxInt32 {
		return errTooLarge(op)
	}
	_, _, err := result(op, C.nt_x509_add_ski(x.p, cBytes(id), C.int(len(id))))
	runtime.KeepAlive(x)
	return err
}

// AddAuthorityKeyID adds authorityKeyIdentifier with a key identifier: id, or
// when id is empty the subjectKeyIdentifier of from (the certificate itself
// when from is nil). It reports false, and adds nothing, when from has none.
func (x *X509) AddAuthorityKeyID(from *X509, id []byte) (bool, error) {
	const op = "X509_add1_ext_i2d"
	if err := x.check(op); err != nil {
		return false, err
	}
	if len(id) > math.MaxInt32 {
		return false, errTooLarge(op)
	}
	fp := x.p
	if from != nil {
		if from.p == nil {
			return false, errFreed(op, "issuer certificate")
		}
		fp = from.p
	}
	n, _, err := result(op, C.nt_x509_add_aki(x.p, fp, cBytes(id), C.int(len(id))))
	runtime.KeepAlive(x)
	runtime.KeepAlive(from)
	return n == 1, err
}

// Sign signs the certificate with k. digest is an OpenSSL digest name
// ("SHA256", "SHA1", ...); "" is SHA-256, or no digest for keys that sign
// without one (Ed25519, Ed448).
func (x *X509) Sign(k *PKey, digest string) error {
	const op = "X509_sign"
	if err := x.check(op); err != nil {
		return err
	}
	if k == nil || k.p == nil {
		return errFreed(op, "key")
	}
	cd := C.CString(digest)
	defer C.free(unsafePointer(cd))
	_, _, err := result(op, C.nt_x509_sign(x.p, k.p, cd))
	runtime.KeepAlive(x)
	runtime.KeepAlive(k)
	return err
}

// ---- CRLs ----

// NewX509CRL starts a version-2 CRL issued by issuer with the given
// thisUpdate and nextUpdate (Unix seconds).
func NewX509CRL(issuer *X509, thisUpdate, nextUpdate int64) (*X509CRL, error) {
	const op = "X509_CRL_new"
	if issuer == nil || issuer.p == nil {
		return nil, errFreed(op, "issuer certificate")
	}
	_, p, err := result(op, C.nt_crl_new(issuer.p, C.int64_t(thisUpdate), C.int64_t(nextUpdate)))
	runtime.KeepAlive(issuer)
	if err != nil {
		return nil, err
	}
	return newX509CRL((*C.X509_CRL)(p)), nil
}

// AddRevoked lists a serial number (magnitude and sign) as revoked at when (Unix seconds).
func (c *X509CRL) AddRevoked(magnitude []byte, negative bool, when int64) error {
	const op = "X509_CRL_add0_revoked"
	if c == nil || c.p == nil {
		return errFreed(op, "CRL")
	}
	if len(magnitude) > math.MaxInt32 {
		return errTooLarge(op)
	}
	_, _, err := result(op, C.nt_crl_add_revoked(c.p, cBytes(magnitude), C.int(len(magnitude)), cBool(negative), C.int64_t(when)))
	runtime.KeepAlive(c)
	return err
}

// Sign sorts the entries, adds the issuer's key identifier and a CRL number,
// and signs with k (digest as for X509.Sign).
func (c *X509CRL) Sign(issuer *X509, k *PKey, digest string) error {
	const op = "X509_CRL_sign"
	if c == nil || c.p == nil {
		return errFreed(op, "CRL")
	}
	if issuer == nil || issuer.p == nil {
		return errFreed(op, "issuer certificate")
	}
	if k == nil || k.p == nil {
		return errFreed(op, "key")
	}
	cd := C.CString(digest)
	defer C.free(unsafePointer(cd))
	_, _, err := result(op, C.nt_crl_sign(c.p, issuer.p, k.p, cd))
	runtime.KeepAlive(c)
	runtime.KeepAlive(issuer)
	runtime.KeepAlive(k)
	return err
}

// PEM is the CRL as an "X509 CRL" PEM block.
func (c *X509CRL) PEM() ([]byte, error) {
	const op = "PEM_write_bio_X509_CRL"
	if c == nil || c.p == nil {
		return nil, errFreed(op, "CRL")
	}
	b, err := takeBytes(op, C.nt_crl_pem(c.p))
	runtime.KeepAlive(c)
	return b, err
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
