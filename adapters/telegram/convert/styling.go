// Package convert translates between Telegram's tg types and the hub's
// neutral events. It does no I/O.
//
// Styling: Telegram sends text with entities (ranges in UTF-16 code
// units). Inbound, the entities that XEP-0393 can express become its
// markers in the plain-text body (bold *x*, italic _x_, strikethrough ~x~,
// inline code `x`, pre blocks between ``` lines, blockquotes as "> "
// lines), a link whose text differs from its address is written
// "text <address>", and the rest (underline, spoilers, mentions, custom
// emoji) keeps its text only. Outbound, the body is sent as plain text:
// XEP-0393 markers typed on XMPP reach Telegram as the characters typed,
// which is how XEP-0393 itself degrades.
package convert

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/gotd/td/tg"
)

// mark is a marker inserted at a UTF-16 offset.
type mark struct {
	pos   int
	open  bool
	text  string
	start int // the span's start and end, to order nested spans
	end   int
	seq   int
}

// Styled returns text with entities written as XEP-0393 styling. Entities
// out of range are ignored (Telegram's clients do the same).
func Styled(text string, entities []tg.MessageEntityClass) string {
	if len(entities) == 0 {
		return text
	}
	u := utf16.Encode([]rune(text))
	var marks []mark
	add := func(start, end int, open, close string) {
		// XEP-0393: a span must not start or end with whitespace.
		for start < end && isSpace(u[start]) {
			start++
		}
		for end > start && isSpace(u[end-1]) {
			end--
		}
		if start >= end {
			return
		}
		n := len(marks)
		marks = append(marks,
			mark{pos: start, open: true, text: open, start: start, end: end, seq: n},
			mark{pos: end, open: false, text: close, start: start, end: end, seq: n})
	}
	var quotes [][2]int
	for _, e := range entities {
		start, end := e.GetOffset(), e.GetOffset()+e.GetLength()
		if start < 0 || end > len(u) || start >= end {
			continue
		}
		switch e := e.(type) {
		case *tg.MessageEntityBold:
			add(start, end, "*", "*")
		case *tg.MessageEntityItalic:
			add(start, end, "_", "_")
		case *tg.MessageEntityStrike:
			add(start, end, "~", "~")
		case *tg.MessageEntityCode:
			add(start, end, "`", "`")
		case *tg.MessageEntityPre:
			open, close := "```"+e.Language+"\n", "\n```"
			if start > 0 && u[start-1] != '\n' {
				open = "\n" + open
			}
			if end < len(u) && u[end] != '\n' {
				close += "\n"
			}
			marks = append(marks,
				mark{pos: start, open: true, text: open, start: start, end: end, seq: len(marks)},
				mark{pos: end, open: false, text: close, start: start, end: end, seq: len(marks)})
		case *tg.MessageEntityTextURL:
			if string(utf16.Decode(u[start:end])) != e.URL {
				marks = append(marks, mark{pos: end, open: false, text: " <" + e.URL + ">", start: start, end: end, seq: len(marks)})
			}
		case *tg.MessageEntityBlockquote:
			quotes = append(quotes, [2]int{start, end})
		}
	}
	slices.SortStableFunc(marks, func(a, b mark) int {
		if c := cmp.Compare(a.pos, b.pos); c != 0 {
			return c
		}
		if a.open != b.open { // close what ends here before opening
			if a.open {
				return 1
			}
			return -1
		}
		if a.open { // the outer span (ending later) opens first
			return cmp.Or(cmp.Compare(b.end, a.end), cmp.Compare(a.seq, b.seq))
		}
		// the inner span (starting later) closes first
		return cmp.Or(cmp.Compare(b.start, a.start), cmp.Compare(b.seq, a.seq))
	})
	var out strings.Builder
	i := 0
	for pos := 0; pos <= len(u); pos++ {
		for i < len(marks) && marks[i].pos == pos {
			out.WriteString(marks[i].text)
			i++
		}
		if pos < len(u) {
			if inQuote(quotes, pos) && (pos == 0 || u[pos-1] == '\n') {
				out.WriteString("> ")
			}
			// Surrogate pairs are written when their second half comes.
			if utf16.IsSurrogate(rune(u[pos])) {
				if pos+1 < len(u) {
					out.WriteRune(utf16.DecodeRune(rune(u[pos]), rune(u[pos+1])))
					pos++
					for i < len(marks) && marks[i].pos == pos { // a marker inside a pair: after it
						out.WriteString(marks[i].text)
						i++
					}
				}
				continue
			}
			out.WriteRune(rune(u[pos]))
		}
	}
	return out.String()
}

func inQuote(quotes [][2]int, pos int) bool {
	for _, q := range quotes {
		if pos >= q[0] && pos < q[1] {
			return true
		}
	}
	return false
}

func isSpace(c uint16) bool { return c < 0x80 && unicode.IsSpace(rune(c)) }
