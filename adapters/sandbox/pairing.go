package sandbox

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
)

// codeAlphabet has 32 characters that are hard to confuse (no I, O, U, 0).
const codeAlphabet = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"

// pairing is a pairing code waiting for the simulated phone.
type pairing struct {
	phone string
	// code is shown to the user as "ABCD-EFGH".
	code      string
	confirmed chan struct{}
	closed    bool
}

// pairingCode derives the code of the attempt-th pairing of phone.
func pairingCode(seed uint64, phone string, attempt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "sandbox-pairing|%d|%s|%d", seed, phone, attempt))
	var b strings.Builder
	for i := range 8 {
		if i == 4 {
			b.WriteByte('-')
		}
		b.WriteByte(codeAlphabet[int(sum[i])%len(codeAlphabet)])
	}
	return b.String()
}

// canonicalCode is a code as typed, without case, dashes or spaces.
func canonicalCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// newPairing issues the next pairing code of phone.
func (p *Platform) newPairing(phone string) *pairing {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts[phone]++
	pr := &pairing{
		phone:     phone,
		code:      pairingCode(p.seed, phone, p.attempts[phone]),
		confirmed: make(chan struct{}),
	}
	p.pairings[phone] = append(p.pairings[phone], pr)
	return pr
}

// dropPairing withdraws a code (expired, cancelled or used).
func (p *Platform) dropPairing(pr *pairing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropPairingLocked(pr)
}

func (p *Platform) dropPairingLocked(pr *pairing) {
	list := slices.DeleteFunc(p.pairings[pr.phone], func(x *pairing) bool { return x == pr })
	if len(list) == 0 {
		delete(p.pairings, pr.phone)
	} else {
		p.pairings[pr.phone] = list
	}
}

// confirmLocked is the phone accepting pr.
func (p *Platform) confirmLocked(pr *pairing) {
	if !pr.closed {
		pr.closed = true
		close(pr.confirmed)
	}
	p.dropPairingLocked(pr)
}

func (p *Platform) confirm(pr *pairing) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.confirmLocked(pr)
}

// ConfirmPairing is the simulated phone of phone entering code under
// "Linked devices → Link with phone number". The login that shows code
// then completes. Case, dashes and spaces in code do not matter. A phone
// with no pending code, or a wrong or expired code, is an error wrapping
// gateway.ErrBadRequest.
func (p *Platform) ConfirmPairing(phone, code string) error {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return err
	}
	want := canonicalCode(code)
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.pairings[phone]
	if len(list) == 0 {
		return fmt.Errorf("sandbox: no pairing code is pending for %s: %w", phone, gateway.ErrBadRequest)
	}
	for _, pr := range list {
		if canonicalCode(pr.code) == want {
			p.confirmLocked(pr)
			return nil
		}
	}
	return fmt.Errorf("sandbox: %q is not the pairing code pending for %s (wrong or expired): %w", code, phone, gateway.ErrBadRequest)
}

// PendingPairingCode returns the newest pairing code shown for phone that
// is still valid, as shown to the user ("ABCD-EFGH").
func (p *Platform) PendingPairingCode(phone string) (string, bool) {
	phone, err := NormalizePhone(phone)
	if err != nil {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.pairings[phone]
	if len(list) == 0 {
		return "", false
	}
	return list[len(list)-1].code, true
}
