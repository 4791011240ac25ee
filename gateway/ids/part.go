package ids

import (
	"strconv"
	"strings"
)

// partSep separates a message id from a part number in a part id.
const partSep = "~"

// maxParts bounds the part numbers SplitPart accepts.
const maxParts = 999

// PartID names part n of message id, for a frontend that shows one
// platform message as several stanzas (its text, then one per file): part
// 0 is id itself, part n ≥ 1 is id + "~" + n. Reactions, replies,
// corrections and markers that name a part reach the hub with the part id,
// and the hub maps it back to the message with SplitPart.
func PartID(id MessageID, n int) MessageID {
	if n <= 0 || id == "" {
		return id
	}
	return id + MessageID(partSep+strconv.Itoa(n))
}

// SplitPart returns the message and the part number that id names: (id, 0)
// for an id that is not a part id.
func SplitPart(id MessageID) (MessageID, int) {
	i := strings.LastIndex(string(id), partSep)
	if i <= 0 {
		return id, 0
	}
	digits := string(id[i+len(partSep):])
	if digits == "" || digits[0] == '0' || len(digits) > len(strconv.Itoa(maxParts)) {
		return id, 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 || n > maxParts {
		return id, 0
	}
	return id[:i], n
}
