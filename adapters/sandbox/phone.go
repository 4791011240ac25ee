package sandbox

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/drawbridge-im/drawbridge/gateway"
	"github.com/drawbridge-im/drawbridge/gateway/ids"
)

// PhonePattern is the regular expression of a phone number in E.164 form as
// the sandbox accepts it: "+", a non-zero digit, then 7 to 14 more digits.
const PhonePattern = `^\+[1-9][0-9]{7,14}$`

var phoneRE = regexp.MustCompile(PhonePattern)

// NormalizePhone turns what a user typed into a phone number in E.164 form.
// It drops spaces and the separators - . ( ), and reads a leading "00" as
// "+". Anything that is still not E.164 is an error wrapping
// gateway.ErrBadRequest, with a sentence for people (gateway.Explained)
// that says what to type instead.
func NormalizePhone(input string) (string, error) {
	s := dropSeparators(input)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !phoneRE.MatchString(s) {
		return "", gateway.Explain(phoneAdvice(input),
			fmt.Errorf("sandbox: %q is not a phone number in international format (+ then 8 to 15 digits, e.g. +15550001111): %w",
				input, gateway.ErrBadRequest))
	}
	return s, nil
}

// dropSeparators drops the spaces and separators people write in phone
// numbers.
func dropSeparators(input string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '-', '.', '(', ')':
			return -1
		}
		return r
	}, input)
}

// withoutPlus returns "+" and the digits of input when input is a phone
// number in international format but for its leading "+".
func withoutPlus(input string) (string, bool) {
	s := dropSeparators(input)
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	return "+" + s, phoneRE.MatchString("+" + s)
}

// phoneAdvice says, for people, what is wrong with a phone number someone
// typed and what to type instead.
func phoneAdvice(input string) string {
	shown := strings.TrimSpace(input)
	if shown == "" {
		return "A phone number is needed: write + then the country code and the number, e.g. +15551234567."
	}
	if phone, ok := withoutPlus(input); ok {
		return fmt.Sprintf("%s needs a + and the country code in front: if it starts with the country code already, write %s.", shown, phone)
	}
	return fmt.Sprintf("%s is not a phone number: write + then the country code and the number, e.g. +15551234567.", shown)
}

// phoneOf reads a phone number a person typed, like NormalizePhone, and
// also takes one without its leading "+" when that is unambiguous: when it
// is the number of a user of the platform.
func (p *Platform) phoneOf(input string) (string, error) {
	phone, err := NormalizePhone(input)
	if err == nil {
		return phone, nil
	}
	if plus, ok := withoutPlus(input); ok {
		if _, known := p.User(ids.UserID(plus)); known {
			return plus, nil
		}
	}
	return "", err
}
