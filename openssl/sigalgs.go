package openssl

import "github.com/nodetls/nodetls/cbridge"

// signNames are the names Node gives the signing half of a shared signature
// algorithm; other key types use OpenSSL's short name.
var signNames = map[int]string{
	cbridge.NIDRSA:          "RSA",
	cbridge.NIDRSAPSS:       "RSA-PSS",
	cbridge.NIDDSA:          "DSA",
	cbridge.NIDEC:           "ECDSA",
	cbridge.NIDEd25519:      "Ed25519",
	cbridge.NIDEd448:        "Ed448",
	cbridge.NIDGost2001:     "gost2001",
	cbridge.NIDGost2012_256: "gost2012_256",
	cbridge.NIDGost2012_512: "gost2012_512",
}

// Name is the algorithm as "<sign>+<hash>" ("ECDSA+SHA256", "RSA-PSS+SHA256",
// "Ed25519+UNDEF"), the form of Node's getSharedSigalgs.
func (s SigAlg) Name() string {
	sign, ok := signNames[s.SignNID]
	if !ok {
		sign = s.Sign
	}
	if sign == "" {
		sign = "UNDEF"
	}
	hash := s.Hash
	if hash == "" {
		hash = "UNDEF"
	}
	return sign + "+" + hash
}

// SharedSigalgNames lists SharedSigalgs by Name.
func (c *Conn) SharedSigalgNames() []string {
	algs := c.SharedSigalgs()
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = a.Name()
	}
	return out
}
