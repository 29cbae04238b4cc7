package openssl

// TEMPORARY (engine branch): SSL_OP_* values until the context work lands.
const OpNoRenegotiation uint64 = 1 << 30
