package cbridge

/*
#include "bridge.h"
const char *nt_err_lib_macro_name(int lib);
*/
import "C"

// ErrLibMacroName is the name of the ERR_LIB_* macro for a library code
// ("SSL" for ERR_LIB_SSL, "OSSL_DECODER" for ERR_LIB_OSSL_DECODER), "" if unknown.
func ErrLibMacroName(lib int) string { return C.GoString(C.nt_err_lib_macro_name(C.int(lib))) }
