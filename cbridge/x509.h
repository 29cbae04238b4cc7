/*
 * x509.h — private keys, certificates and CRLs (pkey.c, x509.c, x509_create.c).
 *
 * Byte results: a shim that returns bytes puts a malloc'd copy in nt_result.ptr
 * and its length in nt_result.ret; the Go side copies and free()s it.
 */
#ifndef NODETLS_X509_H
#define NODETLS_X509_H

#include "bridge.h"

/* nt_bytes_from_bio copies a memory BIO's contents into a malloc'd buffer and
 * frees the BIO (on every path). */
nt_result nt_bytes_from_bio(BIO *b, const char *what);

/* pkey.c */
nt_result nt_pkey_from_der(const unsigned char *der, int len, const char *pass, int passlen);
nt_result nt_pkey_generate(const char *type, const char *curve, int bits);
const char *nt_pkey_type_name(EVP_PKEY *k);
int nt_pkey_bits(EVP_PKEY *k);
nt_result nt_pkey_pkcs8_pem(EVP_PKEY *k, const char *pass, int passlen, int encrypt);
nt_result nt_pkey_pkcs8_der(EVP_PKEY *k);
nt_result nt_pkey_public_der(EVP_PKEY *k);

/* x509.c */
nt_result nt_x509_from_der(const unsigned char *der, int len);
nt_result nt_x509_der(X509 *x);
nt_result nt_x509_pem(X509 *x);
nt_result nt_x509_check_private_key(X509 *x, EVP_PKEY *k);
nt_result nt_x509_public_der(X509 *x);
nt_result nt_x509_info(X509 *x);
/* nt_x509_identity is the subject and subjectAltName records of
 * nt_x509_info alone: what a host name check reads. */
nt_result nt_x509_identity(X509 *x);

/* Record tags of the nt_x509_info blob: each record is tag (1 byte), length
 * (4 bytes, little endian) and that many bytes of payload. */
enum {
    NT_INFO_SUBJECT = 1,     /* "type\0value" (value UTF-8) */
    NT_INFO_SUBJECT_INVALID, /* a value could not be converted to UTF-8 */
    NT_INFO_ISSUER,
    NT_INFO_ISSUER_INVALID,
    NT_INFO_SAN_BEGIN,       /* the certificate has a SAN extension */
    NT_INFO_SAN_NAME,        /* a general name (see below) */
    NT_INFO_SAN_INVALID,     /* the SAN extension could not be decoded or printed */
    NT_INFO_AIA_BEGIN,
    NT_INFO_AIA_ENTRY,       /* "method\0" followed by a general name */
    NT_INFO_AIA_INVALID,
    NT_INFO_CA,              /* 1 byte: X509_check_ca() == 1 */
    NT_INFO_KEY_TYPE,        /* EVP_PKEY type name, e.g. "RSA", "EC", "ED25519" */
    NT_INFO_MODULUS,         /* BN_print text */
    NT_INFO_BITS,            /* decimal text */
    NT_INFO_EXPONENT,        /* "0x..." */
    NT_INFO_PUBKEY,          /* RSA: SubjectPublicKeyInfo DER; EC: the encoded point */
    NT_INFO_ASN1_CURVE,
    NT_INFO_NIST_CURVE,
    NT_INFO_VALID_FROM,      /* ASN1_TIME_print text */
    NT_INFO_VALID_TO,
    NT_INFO_EKU_BEGIN,       /* the certificate has an extended key usage extension */
    NT_INFO_EKU,             /* one dotted OID */
    NT_INFO_SERIAL,          /* BN_bn2hex text */
    NT_INFO_RAW              /* DER of the certificate */
};

/* A general name in the blob: its GEN_* type (1 byte) and then
 *  GEN_DNS, GEN_EMAIL, GEN_URI: the IA5String bytes;
 *  GEN_IPADD: the address octets;
 *  GEN_RID: the dotted OID;
 *  GEN_DIRNAME: the RFC 2253 text Node prints (UTF-8, no MSB/control escaping);
 *  GEN_OTHERNAME: 1 byte kind (0 unsupported, 1 UTF8String, 2 IA5String),
 *                 then "prefix\0" and the value bytes;
 *  GEN_X400, GEN_EDIPARTY: nothing. */
enum { NT_OTHERNAME_UNSUPPORTED = 0, NT_OTHERNAME_UTF8 = 1, NT_OTHERNAME_IA5 = 2 };

/* x509_create.c */
nt_result nt_x509_new_v3(void);
nt_result nt_x509_set_serial(X509 *x, const unsigned char *mag, int len, int negative);
nt_result nt_x509_set_validity(X509 *x, int64_t not_before, int64_t not_after);
nt_result nt_x509_name_add(X509 *x, int issuer, const char *field, const unsigned char *value, int len);
nt_result nt_x509_copy_issuer(X509 *x, X509 *issuer);
nt_result nt_x509_set_pubkey(X509 *x, EVP_PKEY *k);
nt_result nt_x509_add_basic_constraints(X509 *x, int ca, int pathlen);
nt_result nt_x509_add_conf_ext(X509 *x, int nid, const char *value);
nt_result nt_x509_add_general_names(X509 *x, int nid, const unsigned char *blob, int len);
nt_result nt_x509_add_aia(X509 *x, const unsigned char *blob, int len);
nt_result nt_x509_add_ski(X509 *x, const unsigned char *id, int len);
nt_result nt_x509_add_aki(X509 *x, X509 *from, const unsigned char *id, int len);
nt_result nt_x509_sign(X509 *x, EVP_PKEY *k, const char *md);

nt_result nt_crl_new(X509 *issuer, int64_t this_update, int64_t next_update);
nt_result nt_crl_add_revoked(X509_CRL *crl, const unsigned char *mag, int len, int negative, int64_t when);
nt_result nt_crl_sign(X509_CRL *crl, X509 *issuer, EVP_PKEY *k, const char *md);
nt_result nt_crl_pem(X509_CRL *crl);

/* AIA methods in the nt_x509_add_aia blob. */
enum { NT_AIA_OCSP = 0, NT_AIA_CA_ISSUERS = 1 };

#endif
