#include "x509.h"
#include <stdlib.h>
#include <string.h>

/* Building and signing certificates and CRLs, one step per shim. The Go side
 * owns the X509 / X509_CRL under construction through its handle type. */

nt_result nt_x509_new_v3(void) {
    ERR_clear_error();
    X509 *x = X509_new();
    if (x == NULL)
        return nt_fail("X509_new");
    if (!X509_set_version(x, X509_VERSION_3)) {
        X509_free(x);
        return nt_fail("X509_set_version");
    }
    return nt_ok(1, x);
}

static ASN1_INTEGER *make_integer(const unsigned char *mag, int len, int negative) {
    BIGNUM *bn = BN_bin2bn(mag, len, NULL);
    if (bn == NULL)
        return NULL;
    BN_set_negative(bn, negative);
    ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
    BN_free(bn);
    return ai;
}

nt_result nt_x509_set_serial(X509 *x, const unsigned char *mag, int len, int negative) {
    ERR_clear_error();
    ASN1_INTEGER *ai = make_integer(mag, len, negative);
    if (ai == NULL)
        return nt_fail("BN_to_ASN1_INTEGER");
    int ok = X509_set_serialNumber(x, ai);
    ASN1_INTEGER_free(ai);
    if (!ok)
        return nt_fail("X509_set_serialNumber");
    return nt_ok(1, NULL);
}

/* Times are Unix seconds; ASN1_TIME_set picks UTCTime for 1950-2049 and
 * GeneralizedTime otherwise, as RFC 5280 asks. */
nt_result nt_x509_set_validity(X509 *x, int64_t not_before, int64_t not_after) {
    ERR_clear_error();
    if (ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) == NULL)
        return nt_fail("ASN1_TIME_set");
    if (ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) == NULL)
        return nt_fail("ASN1_TIME_set");
    return nt_ok(1, NULL);
}

/* Appends one RDN (field=value, value in UTF-8) to the subject or issuer name.
 * field is a short or long name or a dotted OID. */
nt_result nt_x509_name_add(X509 *x, int issuer, const char *field, const unsigned char *value, int len) {
    ERR_clear_error();
    X509_NAME *name = issuer ? X509_get_issuer_name(x) : X509_get_subject_name(x);
    static const unsigned char empty[1] = { 0 };
    if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, value != NULL ? value : empty, len, -1, 0))
        return nt_fail("X509_NAME_add_entry_by_txt");
    return nt_ok(1, NULL);
}

/* Sets x's issuer name to issuer's subject; with issuer NULL, to x's own subject. */
nt_result nt_x509_copy_issuer(X509 *x, X509 *issuer) {
    ERR_clear_error();
    X509 *from = issuer != NULL ? issuer : x;
    if (!X509_set_issuer_name(x, X509_get_subject_name(from)))
        return nt_fail("X509_set_issuer_name");
    return nt_ok(1, NULL);
}

nt_result nt_x509_set_pubkey(X509 *x, EVP_PKEY *k) {
    ERR_clear_error();
    if (!X509_set_pubkey(x, k))
        return nt_fail("X509_set_pubkey");
    return nt_ok(1, NULL);
}

/* basicConstraints, critical: CA:TRUE (with pathlen when >= 0) or CA:FALSE. */
nt_result nt_x509_add_basic_constraints(X509 *x, int ca, int pathlen) {
    ERR_clear_error();
    BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
    if (bc == NULL)
        return nt_fail("BASIC_CONSTRAINTS_new");
    bc->ca = ca ? 0xFF : 0;
    if (ca && pathlen >= 0) {
        bc->pathlen = ASN1_INTEGER_new();
        if (bc->pathlen == NULL || !ASN1_INTEGER_set(bc->pathlen, pathlen)) {
            BASIC_CONSTRAINTS_free(bc);
            return nt_fail("ASN1_INTEGER_set");
        }
    }
    int ok = X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT);
    BASIC_CONSTRAINTS_free(bc);
    if (ok != 1)
        return nt_fail("X509_add1_ext_i2d");
    return nt_ok(1, NULL);
}

/* Adds an extension from OpenSSL's configuration syntax, e.g. keyUsage
 * "critical,digitalSignature,keyCertSign" or extendedKeyUsage "serverAuth". */
nt_result nt_x509_add_conf_ext(X509 *x, int nid, const char *value) {
    ERR_clear_error();
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return nt_fail("X509V3_EXT_nconf_nid");
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok)
        return nt_fail("X509_add_ext");
    return nt_ok(1, NULL);
}

/* blob_next reads one [kind byte][u32 LE length][bytes] entry at *off. */
static int blob_next(const unsigned char *blob, int len, int *off, int *kind, const unsigned char **data, int *dlen) {
    if (*off + 5 > len)
        return 0;
    const unsigned char *p = blob + *off;
    uint32_t n = (uint32_t)p[1] | ((uint32_t)p[2] << 8) | ((uint32_t)p[3] << 16) | ((uint32_t)p[4] << 24);
    if (n > (uint32_t)(len - *off - 5))
        return 0;
    *kind = p[0];
    *data = p + 5;
    *dlen = (int)n;
    *off += 5 + (int)n;
    return 1;
}

/* make_name builds a DNS / email / URI (IA5String) or IP address general name. */
static GENERAL_NAME *make_name(int type, const unsigned char *data, int len) {
    ASN1_STRING *s = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
    if (s == NULL)
        return NULL;
    if (!ASN1_STRING_set(s, data, len)) {
        ASN1_STRING_free(s);
        return NULL;
    }
    GENERAL_NAME *g = GENERAL_NAME_new();
    if (g == NULL) {
        ASN1_STRING_free(s);
        return NULL;
    }
    GENERAL_NAME_set0_value(g, type, s);
    return g;
}

/* Adds a GeneralNames extension (subjectAltName) from a blob whose entries
 * are [GEN_* type][length][bytes]; the bytes are stored as given. */
nt_result nt_x509_add_general_names(X509 *x, int nid, const unsigned char *blob, int len) {
    ERR_clear_error();
    GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
    if (names == NULL)
        return nt_fail("sk_GENERAL_NAME_new_null");
    int off = 0, kind, dlen;
    const unsigned char *data;
    while (blob_next(blob, len, &off, &kind, &data, &dlen)) {
        if (kind != GEN_DNS && kind != GEN_EMAIL && kind != GEN_URI && kind != GEN_IPADD) {
            GENERAL_NAMES_free(names);
            return nt_fail("unsupported general name type");
        }
        GENERAL_NAME *g = make_name(kind, data, dlen);
        if (g == NULL || !sk_GENERAL_NAME_push(names, g)) {
            GENERAL_NAME_free(g);
            GENERAL_NAMES_free(names);
            return nt_fail("GENERAL_NAME_new");
        }
    }
    int ok = X509_add1_ext_i2d(x, nid, names, 0, X509V3_ADD_DEFAULT);
    GENERAL_NAMES_free(names);
    if (ok != 1)
        return nt_fail("X509_add1_ext_i2d");
    return nt_ok(1, NULL);
}

/* Adds authorityInfoAccess from a blob of [NT_AIA_*][length][URI] entries. */
nt_result nt_x509_add_aia(X509 *x, const unsigned char *blob, int len) {
    ERR_clear_error();
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    if (aia == NULL)
        return nt_fail("sk_ACCESS_DESCRIPTION_new_null");
    int off = 0, kind, dlen;
    const unsigned char *data;
    while (blob_next(blob, len, &off, &kind, &data, &dlen)) {
        ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
        GENERAL_NAME *g = make_name(GEN_URI, data, dlen);
        if (ad == NULL || g == NULL || !sk_ACCESS_DESCRIPTION_push(aia, ad)) {
            ACCESS_DESCRIPTION_free(ad);
            GENERAL_NAME_free(g);
            AUTHORITY_INFO_ACCESS_free(aia);
            return nt_fail("ACCESS_DESCRIPTION_new");
        }
        ASN1_OBJECT_free(ad->method);
        ad->method = OBJ_nid2obj(kind == NT_AIA_OCSP ? NID_ad_OCSP : NID_ad_ca_issuers);
        GENERAL_NAME_free(ad->location);
        ad->location = g;
    }
    int ok = X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT);
    AUTHORITY_INFO_ACCESS_free(aia);
    if (ok != 1)
        return nt_fail("X509_add1_ext_i2d");
    return nt_ok(1, NULL);
}

/* subjectKeyIdentifier: the given bytes, or (len 0) the SHA-1 of the public
 * key bits, which is what OpenSSL's "hash" gives. */
nt_result nt_x509_add_ski(X509 *x, const unsigned char *id, int len) {
    ERR_clear_error();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (len == 0) {
        if (!X509_pubkey_digest(x, EVP_sha1(), md, &mdlen))
            return nt_fail("X509_pubkey_digest");
        id = md;
        len = (int)mdlen;
    }
    ASN1_OCTET_STRING *oct = ASN1_OCTET_STRING_new();
    if (oct == NULL || !ASN1_OCTET_STRING_set(oct, id, len)) {
        ASN1_OCTET_STRING_free(oct);
        return nt_fail("ASN1_OCTET_STRING_set");
    }
    int ok = X509_add1_ext_i2d(x, NID_subject_key_identifier, oct, 0, X509V3_ADD_DEFAULT);
    ASN1_OCTET_STRING_free(oct);
    if (ok != 1)
        return nt_fail("X509_add1_ext_i2d");
    return nt_ok(1, NULL);
}

/* authorityKeyIdentifier with a keyIdentifier: the given bytes, or (len 0)
 * the subjectKeyIdentifier of from. ret is 0 when from has none (nothing added). */
nt_result nt_x509_add_aki(X509 *x, X509 *from, const unsigned char *id, int len) {
    ERR_clear_error();
    ASN1_OCTET_STRING *keyid = NULL;
    if (len > 0) {
        keyid = ASN1_OCTET_STRING_new();
        if (keyid == NULL || !ASN1_OCTET_STRING_set(keyid, id, len)) {
            ASN1_OCTET_STRING_free(keyid);
            return nt_fail("ASN1_OCTET_STRING_set");
        }
    } else {
        keyid = X509_get_ext_d2i(from, NID_subject_key_identifier, NULL, NULL);
        if (keyid == NULL) {
            ERR_clear_error();
            return nt_ok(0, NULL);
        }
    }
    AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
    if (akid == NULL) {
        ASN1_OCTET_STRING_free(keyid);
        return nt_fail("AUTHORITY_KEYID_new");
    }
    akid->keyid = keyid;
    int ok = X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT);
    AUTHORITY_KEYID_free(akid);
    if (ok != 1)
        return nt_fail("X509_add1_ext_i2d");
    return nt_ok(1, NULL);
}

/* fetch_md resolves a digest name; "" means the key's default (SHA-256, or
 * none for keys such as Ed25519 that sign without a separate digest).
 * *md is NULL for "none"; the caller frees it with EVP_MD_free. */
static int fetch_md(EVP_PKEY *k, const char *name, EVP_MD **md) {
    *md = NULL;
    if (name[0] == '\0') {
        char def[80];
        if (EVP_PKEY_get_default_digest_name(k, def, sizeof def) > 0 && strcmp(def, "UNDEF") == 0)
            return 1;
        ERR_clear_error();
        name = "SHA256";
    }
    *md = EVP_MD_fetch(NULL, name, NULL);
    return *md != NULL;
}

nt_result nt_x509_sign(X509 *x, EVP_PKEY *k, const char *mdname) {
    ERR_clear_error();
    EVP_MD *md = NULL;
    if (!fetch_md(k, mdname, &md))
        return nt_fail("EVP_MD_fetch");
    int n = X509_sign(x, k, md);
    EVP_MD_free(md);
    if (n <= 0)
        return nt_fail("X509_sign");
    return nt_ok(1, NULL);
}

/* ---- CRLs ---- */

nt_result nt_crl_new(X509 *issuer, int64_t this_update, int64_t next_update) {
    ERR_clear_error();
    X509_CRL *crl = X509_CRL_new();
    if (crl == NULL)
        return nt_fail("X509_CRL_new");
    ASN1_TIME *t1 = ASN1_TIME_set(NULL, (time_t)this_update);
    ASN1_TIME *t2 = ASN1_TIME_set(NULL, (time_t)next_update);
    int ok = t1 != NULL && t2 != NULL &&
             X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
             X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
             X509_CRL_set1_lastUpdate(crl, t1) &&
             X509_CRL_set1_nextUpdate(crl, t2);
    ASN1_TIME_free(t1);
    ASN1_TIME_free(t2);
    if (!ok) {
        X509_CRL_free(crl);
        return nt_fail("X509_CRL_set");
    }
    return nt_ok(1, crl);
}

nt_result nt_crl_add_revoked(X509_CRL *crl, const unsigned char *mag, int len, int negative, int64_t when) {
    ERR_clear_error();
    X509_REVOKED *r = X509_REVOKED_new();
    ASN1_INTEGER *serial = make_integer(mag, len, negative);
    ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)when);
    int ok = r != NULL && serial != NULL && t != NULL &&
             X509_REVOKED_set_serialNumber(r, serial) &&
             X509_REVOKED_set_revocationDate(r, t) &&
             X509_CRL_add0_revoked(crl, r);
    ASN1_INTEGER_free(serial);
    ASN1_TIME_free(t);
    if (!ok) {
        X509_REVOKED_free(r);
        return nt_fail("X509_CRL_add0_revoked");
    }
    return nt_ok(1, NULL);
}

/* Sorts the entries, adds the issuer's key identifier when it has one and a
 * CRL number of 1, and signs. */
nt_result nt_crl_sign(X509_CRL *crl, X509 *issuer, EVP_PKEY *k, const char *mdname) {
    ERR_clear_error();
    X509_CRL_sort(crl);
    ASN1_OCTET_STRING *keyid = X509_get_ext_d2i(issuer, NID_subject_key_identifier, NULL, NULL);
    ERR_clear_error();
    if (keyid != NULL) {
        AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
        if (akid == NULL) {
            ASN1_OCTET_STRING_free(keyid);
            return nt_fail("AUTHORITY_KEYID_new");
        }
        akid->keyid = keyid;
        int ok = X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT);
        AUTHORITY_KEYID_free(akid);
        if (ok != 1)
            return nt_fail("X509_CRL_add1_ext_i2d");
    }
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    int ok = num != NULL && ASN1_INTEGER_set(num, 1) &&
             X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, X509V3_ADD_DEFAULT) == 1;
    ASN1_INTEGER_free(num);
    if (!ok)
        return nt_fail("X509_CRL_add1_ext_i2d");
    EVP_MD *md = NULL;
    if (!fetch_md(k, mdname, &md))
        return nt_fail("EVP_MD_fetch");
    int n = X509_CRL_sign(crl, k, md);
    EVP_MD_free(md);
    if (n <= 0)
        return nt_fail("X509_CRL_sign");
    return nt_ok(1, NULL);
}

nt_result nt_crl_pem(X509_CRL *crl) {
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return nt_fail("BIO_new");
    if (!PEM_write_bio_X509_CRL(b, crl)) {
        BIO_free(b);
        return nt_fail("PEM_write_bio_X509_CRL");
    }
    return nt_bytes_from_bio(b, "PEM_write_bio_X509_CRL");
}
