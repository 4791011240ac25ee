package sandbox

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
)

// PhonePattern is the regular expression of a phone number in E.164 form as
// the sandbox accepts it: "+", a non-zero digit, then 7 to 14 more digits.
const PhonePattern = `^\+[1-9][0-9]{7,14}$`

var phoneRE = regexp.MustCompile(PhonePattern)

// NormalizePhone turns what a user typed into a phone number in E.164 form.
// It drops spaces and the separators - . ( ), and reads a leading "00" as
// "+". Anything that is still not E.164 is an error wrapping
// gateway.ErrBadRequest.
func NormalizePhone(input string) (string, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '-', '.', '(', ')':
			return -1
		}
		return r
	}, input)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !phoneRE.MatchString(s) {
		return "", fmt.Errorf("sandbox: %q is not a phone number in international format (+ then 8 to 15 digits, e.g. +15550001111): %w",
			input, gateway.ErrBadRequest)
	}
	return s, nil
}
