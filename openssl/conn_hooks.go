package openssl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nodetls/nodetls/cbridge"
)

// connHooks is the Conn seen by OpenSSL's callbacks. They run inside an engine
// step on the goroutine that holds c.mu, so they may touch mu-guarded fields
// but must not lock mu or start another step.
type connHooks Conn

var _ cbridge.ConnHooks = (*connHooks)(nil)

func (h *connHooks) fail(err error) {
	if h.hookErr == nil {
		h.hookErr = err
	}
}

// SelectALPN decodes the client's offer and asks ConnConfig.SelectALPN.
func (h *connHooks) SelectALPN(offered []byte) int {
	var names []string
	var offs []int
	for i := 0; i < len(offered); {
		n := int(offered[i])
		if i+1+n > len(offered) {
			break
		}
		names = append(names, string(offered[i+1:i+1+n]))
		offs = append(offs, i)
		i += 1 + n
	}
	proto, err := h.cfg.SelectALPN(names)
	if errors.Is(err, ErrNoApplicationProtocol) {
		return cbridge.ALPNFatal // OpenSSL reports its own error
	}
	if err != nil {
		// "No overlap" is not a callback failure: the handshake then fails
		// with OpenSSL's own "no application protocol" error, as Node's does.
		if !errors.Is(err, ErrNoApplicationProtocol) {
			h.fail(err)
		}
		return cbridge.ALPNFatal
	}
	if proto == "" {
		return cbridge.ALPNNoAck
	}
	for i, n := range names {
		if n == proto {
			return offs[i]
		}
	}
	h.fail(fmt.Errorf("openssl: ALPN callback chose %q, which the client did not offer", proto))
	return cbridge.ALPNFatal
}

// ServerName asks ConnConfig.ServerNameCallback which context to use. It
// returns a reference of its own to the context's SSL_CTX, taken under the
// Context's lock, so a concurrent Context.Close cannot free it before OpenSSL
// takes its reference.
func (h *connHooks) ServerName(name string) (*cbridge.SSLCtx, error) {
	ctx, err := h.cfg.ServerNameCallback(name)
	if err != nil {
		h.fail(err)
		return nil, err
	}
	if ctx == nil {
		return nil, nil
	}
	var ref *cbridge.SSLCtx
	if !ctx.read(func(hd *cbridge.SSLCtx) { ref = hd.Ref() }) {
		err := fmt.Errorf("openssl: the context chosen for server name %q is closed", name)
		h.fail(err)
		return nil, err
	}
	h.curCtx = ctx
	return ref, nil
}

// PSKServer asks ConnConfig.PSKServer for the identity's key.
func (h *connHooks) PSKServer(identity string, maxPSK int) ([]byte, error) {
	key, err := h.cfg.PSKServer(identity)
	if err == nil && len(key) > maxPSK {
		err = &PSKLimitError{What: "key", Len: len(key), Max: maxPSK}
	}
	if err != nil {
		h.fail(err)
		return nil, err
	}
	return key, nil
}

// PSKClient asks ConnConfig.PSKClient for an identity and key.
func (h *connHooks) PSKClient(hint string, hasHint bool, maxIdentity, maxPSK int) (string, []byte, error) {
	id, key, err := h.cfg.PSKClient(hint, hasHint)
	switch {
	case err != nil:
	case len(key) == 0:
		return "", nil, nil // no PSK
	case len(id) > maxIdentity:
		err = &PSKLimitError{What: "identity", Len: len(id), Max: maxIdentity}
	case len(key) > maxPSK:
		err = &PSKLimitError{What: "key", Len: len(key), Max: maxPSK}
	case strings.IndexByte(id, 0) >= 0:
		err = errors.New("openssl: PSK identity contains a NUL byte")
	}
	if err != nil {
		h.fail(err)
		return "", nil, err
	}
	return id, key, nil
}

// PSKLimitError reports a PSK identity or key longer than the linked OpenSSL
// accepts (OpenSSL 3.0: identity 256 bytes, key 512 bytes; see
// PSKMaxIdentityLen and PSKMaxKeyLen). The handshake fails with it; nothing
// is truncated.
type PSKLimitError struct {
	What     string // "identity" or "key"
	Len, Max int
}

func (e *PSKLimitError) Error() string {
	return fmt.Sprintf("openssl: PSK %s of %d bytes exceeds %d bytes", e.What, e.Len, e.Max)
}

// NewSession hands a new session to ConnConfig.OnNewSession, which owns it.
func (h *connHooks) NewSession(s *cbridge.SessionRef) {
	if ref := s.Ref(); ref != nil {
		h.cfg.OnNewSession(newSessionFrom(ref))
	}
}

// GetSession asks ConnConfig.GetSession for a cached session and hands its
// reference over to OpenSSL.
func (h *connHooks) GetSession(id []byte) *cbridge.Session {
	return h.cfg.GetSession(id).handOver()
}

// Keylog hands a key log line to ConnConfig.Keylog.
func (h *connHooks) Keylog(line string) { h.cfg.Keylog(line) }

// OCSPRequest asks ConnConfig.OCSPRequest for a response to staple.
func (h *connHooks) OCSPRequest() ([]byte, error) {
	resp, err := h.cfg.OCSPRequest()
	if err != nil {
		h.fail(err)
	}
	return resp, err
}

// OCSPResponse hands the stapled response to ConnConfig.OnOCSPResponse.
func (h *connHooks) OCSPResponse(resp []byte) { h.cfg.OnOCSPResponse(resp) }

// ClientHello hands the ClientHello's session id to ConnConfig.OnClientHello.
func (h *connHooks) ClientHello(sessionID []byte, hasTicket bool) {
	h.cfg.OnClientHello(sessionID, hasTicket)
}

// Certificate runs ConnConfig.OnCertificate.
func (h *connHooks) Certificate() bool {
	if err := h.cfg.OnCertificate(); err != nil {
		h.fail(err)
		return false
	}
	return true
}

// HookPanicked turns a panic in a user callback into the step's error.
func (h *connHooks) HookPanicked(hook string, value any) {
	h.fail(fmt.Errorf("openssl: %s callback panicked: %v", hook, value))
}
