package gateway

import (
	"context"
	"fmt"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// Fact is one line of a session's self-diagnosis: a name ("connected",
// "push name") and its value, for people.
type Fact struct {
	Name  string
	Value string
}

// Diagnoser is optional: a Session that can describe its own state beyond
// the account state (whether the platform connection is up, the identity
// it uses, pending work), for an administrator troubleshooting an account.
// Without it AccountDiagnostics returns ErrNotSupported.
type Diagnoser interface {
	Diagnostics(ctx context.Context) []Fact
}

// AccountDiagnostics returns what owner's session on platform says about
// itself (Diagnoser): ErrNotRegistered or ErrNotLinked when there is no
// session, ErrNotSupported when the platform's sessions cannot tell.
func (g *Gateway) AccountDiagnostics(ctx context.Context, owner ids.Owner, platform ids.PlatformID) ([]Fact, error) {
	if _, err := g.Account(ctx, owner, platform); err != nil {
		return nil, err
	}
	l, err := g.session(owner, platform)
	if err != nil {
		return nil, err
	}
	d, ok := l.session.(Diagnoser)
	if !ok {
		return nil, fmt.Errorf("%s sessions cannot describe themselves: %w", platform, ErrNotSupported)
	}
	return append([]Fact{{Name: "account", Value: string(l.account)}}, d.Diagnostics(ctx)...), nil
}

// Diagnose is AccountDiagnostics for administrators: platform "" means
// the only platform.
func (a *Admin) Diagnose(ctx context.Context, owner ids.Owner, platform ids.PlatformID) (ids.PlatformID, []Fact, error) {
	platform, err := a.Platform(platform)
	if err != nil {
		return "", nil, err
	}
	facts, err := a.g.AccountDiagnostics(ctx, owner, platform)
	return platform, facts, err
}
