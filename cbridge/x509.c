#include "x509.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one DER certificate; ret is the number of bytes it took. */
nt_result nt_x509_from_der(const unsigned char *der, int len) {
    ERR_clear_error();
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, len);
    if (x == NULL)
        return nt_fail("d2i_X509");
    return nt_ok((long)(p - der), x);
}

nt_result nt_x509_der(X509 *x) {
    ERR_clear_error();
    int n = i2d_X509(x, NULL);
    if (n <= 0)
        return nt_fail("i2d_X509");
    unsigned char *out = malloc((size_t)n);
    if (out == NULL)
        return nt_fail("malloc");
    unsigned char *p = out;
    if (i2d_X509(x, &p) != n) {
        free(out);
        return nt_fail("i2d_X509");
    }
    return nt_ok(n, out);
}

nt_result nt_x509_pem(X509 *x) {
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return nt_fail("BIO_new");
    if (!PEM_write_bio_X509(b, x)) {
        BIO_free(b);
        return nt_fail("PEM_write_bio_X509");
    }
    return nt_bytes_from_bio(b, "PEM_write_bio_X509");
}

nt_result nt_x509_check_private_key(X509 *x, EVP_PKEY *k) {
    ERR_clear_error();
    if (X509_check_private_key(x, k) != 1)
        return nt_fail("X509_check_private_key");
    return nt_ok(1, NULL);
}

/* SubjectPublicKeyInfo DER of the certificate's key. */
nt_result nt_x509_public_der(X509 *x) {
    ERR_clear_error();
    X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
    if (pub == NULL)
        return nt_fail("X509_get_X509_PUBKEY");
    int n = i2d_X509_PUBKEY(pub, NULL);
    if (n <= 0)
        return nt_fail("i2d_X509_PUBKEY");
    unsigned char *out = malloc((size_t)n);
    if (out == NULL)
        return nt_fail("malloc");
    unsigned char *p = out;
    if (i2d_X509_PUBKEY(pub, &p) != n) {
        free(out);
        return nt_fail("i2d_X509_PUBKEY");
    }
    return nt_ok(n, out);
}

/* ---- the certificate object of Node's getPeerCertificate ---- */

/* rec appends one blob record; it returns 0 when the BIO write failed. */
static int rec(BIO *b, int tag, const void *data, size_t len) {
    unsigned char h[5];
    if (len > 0x7fffffff)
        return 0;
    h[0] = (unsigned char)tag;
    h[1] = (unsigned char)(len & 0xff);
    h[2] = (unsigned char)((len >> 8) & 0xff);
    h[3] = (unsigned char)((len >> 16) & 0xff);
    h[4] = (unsigned char)((len >> 24) & 0xff);
    if (BIO_write(b, h, 5) != 5)
        return 0;
    if (len > 0 && BIO_write(b, data, (int)len) != (int)len)
        return 0;
    return 1;
}

static int rec_str(BIO *b, int tag, const char *s) { return rec(b, tag, s, strlen(s)); }

/* rec_bio appends a record holding tmp's contents and empties tmp. */
static int rec_bio(BIO *b, int tag, BIO *tmp) {
    char *data = NULL;
    long n = BIO_get_mem_data(tmp, &data);
    int ok = n >= 0 && rec(b, tag, data, (size_t)n);
    BIO_reset(tmp);
    return ok;
}

/* Name entries as Node reads them: the short name (or the dotted OID when
 * OpenSSL has none) and the value through ASN1_STRING_to_UTF8. */
static int put_name(BIO *b, const X509_NAME *name, int tag, int bad_tag) {
    int cnt = X509_NAME_entry_count(name);
    for (int i = 0; i < cnt; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *type = X509_NAME_ENTRY_get_object(e);
        const ASN1_STRING *value = X509_NAME_ENTRY_get_data(e);
        char tbuf[80];
        const char *tstr;
        int nid = OBJ_obj2nid(type);
        if (nid != NID_undef) {
            tstr = OBJ_nid2sn(nid);
        } else {
            OBJ_obj2txt(tbuf, sizeof tbuf, type, 1);
            tstr = tbuf;
        }
        unsigned char *u = NULL;
        int ulen = ASN1_STRING_to_UTF8(&u, value);
        if (ulen < 0) {
            ERR_clear_error();
            return rec(b, bad_tag, NULL, 0);
        }
        size_t tlen = strlen(tstr);
        unsigned char *payload = malloc(tlen + 1 + (size_t)ulen);
        if (payload == NULL) {
            OPENSSL_free(u);
            return 0;
        }
        memcpy(payload, tstr, tlen + 1);
        memcpy(payload + tlen + 1, u, (size_t)ulen);
        int ok = rec(b, tag, payload, tlen + 1 + (size_t)ulen);
        free(payload);
        OPENSSL_free(u);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Appends the bytes of a general name (type byte first) to tmp.
 * Returns 0 when the name cannot be printed (Node then reports null). */
static int put_general_name(BIO *tmp, const GENERAL_NAME *gen) {
    unsigned char type = (unsigned char)gen->type;
    BIO_write(tmp, &type, 1);
    switch (gen->type) {
    case GEN_DNS:
    case GEN_EMAIL:
    case GEN_URI: {
        const ASN1_IA5STRING *s = gen->d.ia5;
        if (s->length > 0)
            BIO_write(tmp, s->data, s->length);
        return 1;
    }
    case GEN_IPADD:
        if (gen->d.ip->length > 0)
            BIO_write(tmp, gen->d.ip->data, gen->d.ip->length);
        return 1;
    case GEN_RID: {
        char oid[256];
        int n = OBJ_obj2txt(oid, sizeof oid, gen->d.rid, 1);
        if (n > 0)
            BIO_write(tmp, oid, (int)strlen(oid));
        return 1;
    }
    case GEN_DIRNAME: {
        BIO *nb = BIO_new(BIO_s_mem());
        if (nb == NULL)
            return 0;
        unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~ASN1_STRFLGS_ESC_CTRL;
        if (X509_NAME_print_ex(nb, gen->d.dirn, 0, flags) < 0) {
            BIO_free(nb);
            return 0;
        }
        char *data = NULL;
        long n = BIO_get_mem_data(nb, &data);
        if (n > 0)
            BIO_write(tmp, data, (int)n);
        BIO_free(nb);
        return 1;
    }
    case GEN_OTHERNAME: {
        const char *prefix = NULL;
        int unicode = 1;
        switch (OBJ_obj2nid(gen->d.otherName->type_id)) {
        case NID_id_on_SmtpUTF8Mailbox: prefix = "SmtpUTF8Mailbox"; break;
        case NID_XmppAddr: prefix = "XmppAddr"; break;
        case NID_SRVName: prefix = "SRVName"; unicode = 0; break;
        case NID_ms_upn: prefix = "UPN"; break;
        case NID_NAIRealm: prefix = "NAIRealm"; break;
        }
        const ASN1_TYPE *v = gen->d.otherName->value;
        int vt = v != NULL ? v->type : -1;
        unsigned char kind;
        if (prefix == NULL || (unicode && vt != V_ASN1_UTF8STRING) || (!unicode && vt != V_ASN1_IA5STRING)) {
            kind = NT_OTHERNAME_UNSUPPORTED;
            BIO_write(tmp, &kind, 1);
            return 1;
        }
        kind = unicode ? NT_OTHERNAME_UTF8 : NT_OTHERNAME_IA5;
        BIO_write(tmp, &kind, 1);
        BIO_write(tmp, prefix, (int)strlen(prefix) + 1);
        const ASN1_STRING *s = unicode ? (const ASN1_STRING *)v->value.utf8string : (const ASN1_STRING *)v->value.ia5string;
        if (s->length > 0)
            BIO_write(tmp, s->data, s->length);
        return 1;
    }
    default: /* GEN_X400, GEN_EDIPARTY: printed as "<unsupported>" */
        return 1;
    }
}

static int put_san(BIO *b, BIO *tmp, X509 *x) {
    int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
    if (idx < 0)
        return 1;
    if (!rec(b, NT_INFO_SAN_BEGIN, NULL, 0))
        return 0;
    GENERAL_NAMES *names = X509V3_EXT_d2i(X509_get_ext(x, idx));
    if (names == NULL) {
        ERR_clear_error();
        return rec(b, NT_INFO_SAN_INVALID, NULL, 0);
    }
    int ok = 1;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(names); i++) {
        BIO_reset(tmp);
        if (!put_general_name(tmp, sk_GENERAL_NAME_value(names, i))) {
            ERR_clear_error();
            ok = rec(b, NT_INFO_SAN_INVALID, NULL, 0);
            break;
        }
        ok = rec_bio(b, NT_INFO_SAN_NAME, tmp);
    }
    GENERAL_NAMES_free(names);
    return ok;
}

static int put_aia(BIO *b, BIO *tmp, X509 *x) {
    int idx = X509_get_ext_by_NID(x, NID_info_access, -1);
    if (idx < 0)
        return 1;
    if (!rec(b, NT_INFO_AIA_BEGIN, NULL, 0))
        return 0;
    AUTHORITY_INFO_ACCESS *descs = X509V3_EXT_d2i(X509_get_ext(x, idx));
    if (descs == NULL) {
        ERR_clear_error();
        return rec(b, NT_INFO_AIA_INVALID, NULL, 0);
    }
    int ok = 1;
    for (int i = 0; ok && i < sk_ACCESS_DESCRIPTION_num(descs); i++) {
        ACCESS_DESCRIPTION *d = sk_ACCESS_DESCRIPTION_value(descs, i);
        char method[80];
        i2t_ASN1_OBJECT(method, sizeof method, d->method);
        BIO_reset(tmp);
        BIO_write(tmp, method, (int)strlen(method) + 1);
        if (!put_general_name(tmp, d->location)) {
            ERR_clear_error();
            ok = rec(b, NT_INFO_AIA_INVALID, NULL, 0);
            break;
        }
        ok = rec_bio(b, NT_INFO_AIA_ENTRY, tmp);
    }
    AUTHORITY_INFO_ACCESS_free(descs);
    return ok;
}

/* The public key fields, as Node reads them through the legacy RSA / EC_KEY
 * views of the key (those are what decide, for example, the EC point form). */
/* The curve's names (asn1Curve, nistCurve) for a curve NID; none for 0. */
static int put_curve(BIO *b, int nid) {
    if (nid == 0)
        return 1;
    const char *sn = OBJ_nid2sn(nid);
    const char *nist = EC_curve_nid2nist(nid);
    return (sn == NULL || rec_str(b, NT_INFO_ASN1_CURVE, sn)) && (nist == NULL || rec_str(b, NT_INFO_NIST_CURVE, nist));
}

static int put_key(BIO *b, BIO *tmp, X509 *x) {
    EVP_PKEY *pkey = X509_get0_pubkey(x);
    if (pkey == NULL) {
        ERR_clear_error();
        return 1;
    }
    if (!rec_str(b, NT_INFO_KEY_TYPE, nt_pkey_type_name(pkey)))
        return 0;
    char num[32];
    switch (EVP_PKEY_get_id(pkey)) {
    case EVP_PKEY_RSA: {
        const RSA *rsa = EVP_PKEY_get0_RSA(pkey);
        if (rsa == NULL)
            break;
        const BIGNUM *n = NULL, *e = NULL;
        RSA_get0_key(rsa, &n, &e, NULL);
        BN_print(tmp, n);
        if (!rec_bio(b, NT_INFO_MODULUS, tmp))
            return 0;
        snprintf(num, sizeof num, "%d", BN_num_bits(n));
        if (!rec_str(b, NT_INFO_BITS, num))
            return 0;
        snprintf(num, sizeof num, "0x%" PRIx64, (uint64_t)BN_get_word(e));
        if (!rec_str(b, NT_INFO_EXPONENT, num))
            return 0;
        int len = i2d_RSA_PUBKEY(rsa, NULL);
        if (len <= 0)
            return 0;
        unsigned char *der = malloc((size_t)len), *p = der;
        if (der == NULL)
            return 0;
        int ok = i2d_RSA_PUBKEY(rsa, &p) == len && rec(b, NT_INFO_PUBKEY, der, (size_t)len);
        free(der);
        return ok;
    }
    case EVP_PKEY_EC: {
        /* A named curve's fields come from the provider's key as it is:
         * EVP_PKEY_get0_EC_KEY makes a legacy copy of the key, and it and
         * EC_POINT_point2oct each take the point to affine coordinates (a
         * field inversion), which made this function cost 20 us. An
         * uncompressed point's octets are the certificate's own; Node gives
         * the uncompressed form of a compressed one (the legacy copy has
         * lost the form), which the legacy path below makes. */
        char gname[64];
        if (EVP_PKEY_get_group_name(pkey, gname, sizeof gname, NULL) == 1) {
            int nid = OBJ_sn2nid(gname);
            if (nid == NID_undef)
                nid = EC_curve_nist2nid(gname);
            const ASN1_BIT_STRING *pub = X509_get0_pubkey_bitstr(x);
            if (nid != NID_undef && pub != NULL && ASN1_STRING_length(pub) > 0 &&
                ASN1_STRING_get0_data(pub)[0] == POINT_CONVERSION_UNCOMPRESSED) {
                snprintf(num, sizeof num, "%d", EVP_PKEY_get_bits(pkey));
                if (!rec_str(b, NT_INFO_BITS, num) ||
                    !rec(b, NT_INFO_PUBKEY, ASN1_STRING_get0_data(pub), (size_t)ASN1_STRING_length(pub)))
                    return 0;
                if (!put_curve(b, nid))
                    return 0;
                break;
            }
        }
        ERR_clear_error();
        /* A compressed or hybrid point, or explicit curve parameters: the
         * legacy key's view, as Node's. */
        const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
        if (ec == NULL)
            break;
        const EC_GROUP *group = EC_KEY_get0_group(ec);
        if (group != NULL) {
            int bits = EC_GROUP_order_bits(group);
            if (bits > 0) {
                snprintf(num, sizeof num, "%d", bits);
                if (!rec_str(b, NT_INFO_BITS, num))
                    return 0;
            }
        }
        const EC_POINT *pt = EC_KEY_get0_public_key(ec);
        if (pt != NULL && group != NULL) {
            point_conversion_form_t form = EC_KEY_get_conv_form(ec);
            size_t len = EC_POINT_point2oct(group, pt, form, NULL, 0, NULL);
            if (len == 0)
                return 0;
            unsigned char *oct = malloc(len);
            if (oct == NULL)
                return 0;
            int ok = EC_POINT_point2oct(group, pt, form, oct, len, NULL) == len && rec(b, NT_INFO_PUBKEY, oct, len);
            free(oct);
            if (!ok)
                return 0;
        }
        if (!put_curve(b, group != NULL ? EC_GROUP_get_curve_name(group) : 0))
            return 0;
        break;
    }
    }
    ERR_clear_error();
    return 1;
}

static int put_eku(BIO *b, X509 *x) {
    int crit = 0;
    STACK_OF(ASN1_OBJECT) *eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
    if (eku == NULL) {
        ERR_clear_error();
        return 1;
    }
    int ok = rec(b, NT_INFO_EKU_BEGIN, NULL, 0);
    for (int i = 0; ok && i < sk_ASN1_OBJECT_num(eku); i++) {
        char oid[256];
        if (OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, i), 1) >= 0)
            ok = rec_str(b, NT_INFO_EKU, oid);
    }
    sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
    return ok;
}

static int put_serial(BIO *b, X509 *x) {
    const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
    if (sn == NULL)
        return 1;
    BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
    if (bn == NULL) {
        ERR_clear_error();
        return 1;
    }
    char *hex = BN_bn2hex(bn);
    BN_free(bn);
    if (hex == NULL)
        return 0;
    int ok = rec_str(b, NT_INFO_SERIAL, hex);
    OPENSSL_free(hex);
    return ok;
}

nt_result nt_x509_identity(X509 *x) {
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    BIO *tmp = BIO_new(BIO_s_mem());
    int ok = b != NULL && tmp != NULL &&
             put_name(b, X509_get_subject_name(x), NT_INFO_SUBJECT, NT_INFO_SUBJECT_INVALID) &&
             put_san(b, tmp, x);
    BIO_free(tmp);
    if (!ok) {
        BIO_free(b);
        return nt_fail("X509 certificate identity");
    }
    ERR_clear_error();
    return nt_bytes_from_bio(b, "X509 certificate identity");
}

/* nt_x509_info reads everything Node's X509ToObject reads from a certificate
 * into one blob of records (see x509.h), in Node's order. */
nt_result nt_x509_info(X509 *x) {
    ERR_clear_error();
    BIO *b = BIO_new(BIO_s_mem());
    BIO *tmp = BIO_new(BIO_s_mem());
    if (b == NULL || tmp == NULL) {
        BIO_free(b);
        BIO_free(tmp);
        return nt_fail("BIO_new");
    }
    unsigned char ca = X509_check_ca(x) == 1;
    int ok = put_name(b, X509_get_subject_name(x), NT_INFO_SUBJECT, NT_INFO_SUBJECT_INVALID) &&
             put_name(b, X509_get_issuer_name(x), NT_INFO_ISSUER, NT_INFO_ISSUER_INVALID) &&
             put_san(b, tmp, x) &&
             put_aia(b, tmp, x) &&
             rec(b, NT_INFO_CA, &ca, 1) &&
             put_key(b, tmp, x);
    if (ok) {
        ASN1_TIME_print(tmp, X509_get0_notBefore(x));
        ok = rec_bio(b, NT_INFO_VALID_FROM, tmp);
    }
    if (ok) {
        ASN1_TIME_print(tmp, X509_get0_notAfter(x));
        ok = rec_bio(b, NT_INFO_VALID_TO, tmp);
    }
    ok = ok && put_eku(b, x) && put_serial(b, x);
    if (ok) {
        int n = i2d_X509(x, NULL);
        unsigned char *der = n > 0 ? malloc((size_t)n) : NULL, *p = der;
        ok = der != NULL && i2d_X509(x, &p) == n && rec(b, NT_INFO_RAW, der, (size_t)n);
        free(der);
    }
    BIO_free(tmp);
    if (!ok) {
        BIO_free(b);
        return nt_fail("X509 certificate info");
    }
    ERR_clear_error();
    return nt_bytes_from_bio(b, "X509 certificate info");
}
