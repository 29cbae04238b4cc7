package openssl

import "github.com/nodetls/nodetls/cbridge"

// DHParams are finite-field Diffie-Hellman parameters (PKCS#3 "DH PARAMETERS"
// or X9.42 "X9.42 DH PARAMETERS") for DHE cipher suites. Free releases them;
// a Context that uses them keeps its own reference.
type DHParams struct {
	k *cbridge.PKey
}

// ParseDHParamsPEM reads the first DH parameter block of a PEM text. Text
// without such a block is an *Error with OpenSSL's reason; parameters of
// another algorithm (EC PARAMETERS) are refused. Any size is accepted here;
// Context.SetDHParams applies the MinDHBits rule.
func ParseDHParamsPEM(pem []byte) (*DHParams, error) {
	k, err := cbridge.DHParamsFromPEM(pem)
	if err != nil {
		return nil, err
	}
	return &DHParams{k: k}, nil
}

// Bits is the size of the prime p in bits (0 after Free).
func (d *DHParams) Bits() int {
	if d == nil {
		return 0
	}
	return cbridge.DHBits(d.k)
}

// Type is OpenSSL's name of the parameter kind: "DH" (PKCS#3) or "DHX" (X9.42).
func (d *DHParams) Type() string {
	if d == nil {
		return ""
	}
	return cbridge.DHTypeName(d.k)
}

// Free releases the parameters.
func (d *DHParams) Free() {
	if d != nil {
		d.k.Free()
	}
}

// Handle is the cbridge handle, for the layers that pass the parameters to OpenSSL.
func (d *DHParams) Handle() *cbridge.PKey {
	if d == nil {
		return nil
	}
	return d.k
}
