package xmppcomponent

import (
	"sync"

	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// maxRememberedParts bounds partMemory: how many recent multi-stanza
// messages are remembered (about 100 bytes each).
const maxRememberedParts = 4096

// partMemory remembers how many stanzas recent platform messages were
// shown as (a text and its files), so that a retraction from the platform
// withdraws every one of them. It keeps only messages of more than one
// stanza, the most recent maxRememberedParts; past that, or after a
// restart, a retraction withdraws the first stanza only.
type partMemory struct {
	mu    sync.Mutex
	n     map[partKey]int
	order []partKey // insertion order, for eviction
	head  int
}

type partKey struct {
	owner ids.Owner
	chat  ids.ChatID
	id    ids.MessageID
}

// note records that message id was shown as n stanzas.
func (p *partMemory) note(owner ids.Owner, chat ids.ChatID, id ids.MessageID, n int) {
	if n < 2 || id == "" {
		return
	}
	k := partKey{owner, chat, id}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = make(map[partKey]int)
	}
	if _, ok := p.n[k]; !ok {
		if len(p.order) < maxRememberedParts {
			p.order = append(p.order, k)
		} else {
			delete(p.n, p.order[p.head])
			p.order[p.head] = k
			p.head = (p.head + 1) % maxRememberedParts
		}
	}
	p.n[k] = n
}

// of returns the stanza ids message id was shown as: id itself, then its
// part ids.
func (p *partMemory) of(owner ids.Owner, chat ids.ChatID, id ids.MessageID) []ids.MessageID {
	p.mu.Lock()
	n := p.n[partKey{owner, chat, id}]
	p.mu.Unlock()
	out := []ids.MessageID{id}
	for i := 1; i < n; i++ {
		out = append(out, ids.PartID(id, i))
	}
	return out
}
