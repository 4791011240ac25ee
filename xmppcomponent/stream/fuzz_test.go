package stream

import (
	"errors"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"

	"github.com/drawbridge-im/drawbridge/xmppcomponent/xmpptest"
)

// fuzzMaxInput bounds the fuzzer's inputs: the properties hold for any
// size, and small inputs keep each execution fast.
const fuzzMaxInput = 64 << 10

// fuzzStanzaLimit is the stanza size limit while fuzzing: small, so that
// oversized stanzas are common.
const fuzzStanzaLimit = 512

const fuzzStreamHeader = `<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='gw.example.test' id='s1'>`

// FuzzStreamReader feeds arbitrary bytes after a valid stream header to
// the connection's reader: every call must end in a packet, a skipped
// stanza or a fatal error, never a panic or a hang, and the reader must
// never return more packets than there are elements.
func FuzzStreamReader(f *testing.F) {
	for _, s := range xmpptest.FuzzStanzaSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Join(xmpptest.FuzzStanzaSeeds, "")))
	f.Add([]byte(`<message id='big'><body>` + strings.Repeat("x", 600) + `</body></message><message id='c'/>`))
	f.Add([]byte(`<message id='big'><![CDATA[</message>]]><!-- > --><x a='/>'/>` + strings.Repeat("<a>", 200) + `</message>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > fuzzMaxInput {
			t.Skip()
		}
		sr := newStreamReader(strings.NewReader(fuzzStreamHeader + string(data)))
		sr.setMaxStanzaSize(fuzzStanzaLimit) // exercise the skipping of oversized stanzas too
		if _, err := sr.open(); err != nil {
			t.Fatalf("valid header refused: %v", err)
		}
		// Each call consumes at least one start tag, so there can be no
		// more successful calls than '<' in the input.
		limit := strings.Count(string(data), "<") + 1
		for i := 0; ; i++ {
			if i > limit {
				t.Fatalf("more than %d packets from %d bytes", limit, len(data))
			}
			p, err := sr.next()
			var skipped *errUndecodable
			switch {
			case errors.As(err, &skipped):
				continue
			case err != nil:
				return
			}
			if _, ok := p.(stanza.StreamClosePacket); ok {
				return
			}
		}
	})
}
