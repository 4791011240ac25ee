package telegramtest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/gotd/td/bin"
	"github.com/gotd/td/crypto/srp"
	"github.com/gotd/td/exchange"
	"github.com/gotd/td/tg"
	"github.com/gotd/td/tgerr"
	"github.com/gotd/td/tgtest"
)

// Two-step verification, the server's half of Telegram's SRP
// (https://core.telegram.org/api/srp): the server keeps v = g^x mod p for
// the password's x, offers B = k·v + g^b, and checks the client's M1 with
// S = (A·v^u)^b.

// srpG is the generator Telegram uses with its 2048-bit safe prime.
const srpG = 3

// password is an account's 2FA verifier and the running challenge.
type password struct {
	salt1, salt2 []byte
	v            *big.Int
	srpID        int64
	b, gb        *big.Int // the challenge's secret and B
}

func srpPrime() *big.Int {
	p, err := exchange.TestServerRNG{}.DhPrime()
	if err != nil {
		panic(fmt.Sprintf("telegramtest: the DH prime: %v", err))
	}
	return p
}

// SetPassword gives user a two-step verification password.
func (s *Server) SetPassword(user int64, pw string) error {
	salt2 := make([]byte, 16)
	salt1 := make([]byte, 8)
	_, _ = rand.Read(salt1)
	_, _ = rand.Read(salt2)
	v, newSalt1, err := srp.NewSRP(rand.Reader).NewHash([]byte(pw), srp.Input{Salt1: salt1, Salt2: salt2, G: srpG, P: srpPrime().Bytes()})
	if err != nil {
		return fmt.Errorf("telegramtest: password verifier: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.users[user]
	if a == nil {
		return errNoUser
	}
	a.password = &password{salt1: newSalt1, salt2: salt2, v: new(big.Int).SetBytes(v)}
	return nil
}

func pad256(x *big.Int) []byte {
	var b [256]byte
	x.FillBytes(b[:])
	return b[:]
}

func sum(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// pendingLocked returns the account whose code was accepted on this auth
// key and that still owes its password.
func (s *Server) pendingLocked(req *tgtest.Request) (*account, error) {
	id, ok := s.pending2FA[req.Session.AuthKey.ID]
	if !ok {
		return nil, tgerr.New(400, "PASSWORD_MISSING")
	}
	return s.users[id], nil
}

func (s *Server) getPassword(req *tgtest.Request, _ *tg.AccountGetPasswordRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.pendingLocked(req)
	if err != nil {
		return nil, err
	}
	pw := a.password
	p := srpPrime()
	g := big.NewInt(srpG)
	b, err := rand.Int(rand.Reader, p)
	if err != nil {
		return nil, err
	}
	k := new(big.Int).SetBytes(sum(p.Bytes(), pad256(g)))
	gb := new(big.Int).Exp(g, b, p)
	gb.Add(gb, k.Mul(k, pw.v)).Mod(gb, p)
	pw.b, pw.gb = b, gb
	pw.srpID++
	secure := make([]byte, 32)
	_, _ = rand.Read(secure)
	res := &tg.AccountPassword{
		HasPassword: true,
		CurrentAlgo: &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
			Salt1: pw.salt1, Salt2: pw.salt2, G: srpG, P: p.Bytes(),
		},
		SRPB: pad256(gb), SRPID: pw.srpID,
		NewAlgo: &tg.PasswordKdfAlgoUnknown{}, NewSecureAlgo: &tg.SecurePasswordKdfAlgoUnknown{},
		SecureRandom: secure,
	}
	res.SetFlags()
	return res, nil
}

func (s *Server) checkPassword(req *tgtest.Request, r *tg.AuthCheckPasswordRequest) (bin.Encoder, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.pendingLocked(req)
	if err != nil {
		return nil, err
	}
	in, ok := r.Password.(*tg.InputCheckPasswordSRP)
	pw := a.password
	if !ok || pw.b == nil || in.SRPID != pw.srpID {
		return nil, tgerr.New(400, "SRP_ID_INVALID")
	}
	p := srpPrime()
	A := new(big.Int).SetBytes(in.A)
	u := new(big.Int).SetBytes(sum(pad256(A), pad256(pw.gb)))
	S := new(big.Int).Exp(pw.v, u, p)
	S.Mul(S, A).Mod(S, p).Exp(S, pw.b, p)
	hp, hg := sha256.Sum256(p.Bytes()), sha256.Sum256(pad256(big.NewInt(srpG)))
	for i := range hp {
		hp[i] ^= hg[i]
	}
	m1 := sum(hp[:], sum(pw.salt1), sum(pw.salt2), pad256(A), pad256(pw.gb), sum(pad256(S)))
	pw.b = nil // one answer per challenge
	if !bytes.Equal(m1, in.M1) {
		return nil, tgerr.New(400, "PASSWORD_HASH_INVALID")
	}
	delete(s.pending2FA, req.Session.AuthKey.ID)
	return s.signedInLocked(req, a), nil
}
