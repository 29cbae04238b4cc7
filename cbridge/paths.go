package cbridge

/*
#include "bridge.h"
#include <stdlib.h>
static const char *nt_default_cert_file(void) { return X509_get_default_cert_file(); }
static const char *nt_default_cert_file_env(void) { return X509_get_default_cert_file_env(); }
static const char *nt_default_cert_dir(void) { return X509_get_default_cert_dir(); }
static const char *nt_default_cert_dir_env(void) { return X509_get_default_cert_dir_env(); }
*/
import "C"

import "os"

// DefaultCertFile is the CA bundle OpenSSL's default verify paths load: the
// SSL_CERT_FILE environment variable, else X509_get_default_cert_file().
func DefaultCertFile() string {
	if v := os.Getenv(C.GoString(C.nt_default_cert_file_env())); v != "" {
		return v
	}
	return C.GoString(C.nt_default_cert_file())
}

// DefaultCertDir is the hashed CA directory of the default verify paths: the
// SSL_CERT_DIR environment variable, else X509_get_default_cert_dir().
func DefaultCertDir() string {
	if v := os.Getenv(C.GoString(C.nt_default_cert_dir_env())); v != "" {
		return v
	}
	return C.GoString(C.nt_default_cert_dir())
}
