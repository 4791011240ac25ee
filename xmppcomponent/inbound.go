package xmppcomponent

import (
	"strings"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/xmppcomponent/xep"
)

// inbound is what a user's message asks the platform to do, read from its
// payloads.
type inbound struct {
	originID  string
	replace   string // XEP-0308 target
	retract   string // XEP-0424 target
	reactions *xep.Reactions
	reply     *xep.Reply
	fallbacks []*xep.Fallback
	oob       []string
	mentions  []*xep.Reference // XEP-0372, type mention
}

func parseInbound(m stanza.Message) inbound {
	var in inbound
	for _, ext := range m.Extensions {
		switch e := ext.(type) {
		case *xep.OriginID:
			in.originID = e.ID
		case *xep.Replace:
			in.replace = e.ID
		case *xep.Retract:
			in.retract = e.ID
		case *xep.ApplyTo:
			if e.Retract != nil {
				in.retract = e.ID
			}
		case *xep.Reactions:
			in.reactions = e
		case *xep.Reply:
			in.reply = e
		case *xep.Fallback:
			in.fallbacks = append(in.fallbacks, e)
		case *xep.Reference:
			if e.Type == "mention" {
				in.mentions = append(in.mentions, e)
			}
		case *stanza.OOB:
			if e.URL != "" {
				in.oob = append(in.oob, strings.TrimSpace(e.URL))
			}
		}
	}
	return in
}

// checkIDs refuses (gateway.ErrBadRequest) a message whose id, origin-id
// or the ids it names (correction, retraction, reactions, reply) are over
// gateway.MaxStanzaIDLen: the hub keeps such ids in its id map for days.
func (in inbound) checkIDs(id string) error {
	var reactions, reply string
	if in.reactions != nil {
		reactions = in.reactions.ID
	}
	if in.reply != nil {
		reply = in.reply.ID
	}
	return gateway.CheckStanzaIDs(id, in.originID, in.replace, in.retract, reactions, reply)
}

// maxFallbackRanges bounds the XEP-0428 fallback ranges a message may
// carry for one namespace. Clients send one (the quote of a reply); a
// message with more is refused with bad-request before any is applied.
const maxFallbackRanges = 32

// fallbackRanges counts the fallback ranges for namespace ns.
func (in inbound) fallbackRanges(ns string) int {
	n := 0
	for _, f := range in.fallbacks {
		if f.For == ns {
			n += max(len(f.Body), 1) // no range: the whole body
		}
	}
	return n
}

// bodyWithout returns the body without the fallback parts meant for clients
// that do not understand namespace ns (XEP-0428). Ranges count Unicode code
// points; a fallback element without ranges covers the whole body.
//
// Its work is linear in the body's length plus the number of ranges,
// however they overlap: each range adds one mark where it starts and one
// where it ends, and a single pass keeps what no range covers.
func (in inbound) bodyWithout(body, ns string) string {
	runes := []rune(body)
	// cover[i] is how many ranges start at i minus how many end there.
	cover := make([]int32, len(runes)+1)
	for _, f := range in.fallbacks {
		if f.For != ns {
			continue
		}
		if len(f.Body) == 0 {
			return ""
		}
		for _, r := range f.Body {
			start, end := 0, len(runes)
			if r.Start != nil {
				start = *r.Start
			}
			if r.End != nil {
				end = *r.End
			}
			start, end = max(0, min(start, len(runes))), max(0, min(end, len(runes)))
			if start < end {
				cover[start]++
				cover[end]--
			}
		}
	}
	var b strings.Builder
	depth := int32(0)
	for i, r := range runes {
		depth += cover[i]
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}
