package media

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"
)

// nonPublic lists the ranges, besides those netip classifies (loopback,
// private, link-local, multicast, unspecified), that a Fetcher never dials:
// "this network", shared address space (CGNAT), IETF protocol assignments,
// documentation, benchmarking, reserved and broadcast, and their IPv6
// counterparts. Ranges that embed an IPv4 address (4in6, NAT64, 6to4) are
// judged by the embedded address instead; see embeddedIPv4.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"), // includes 255.255.255.255
	netip.MustParsePrefix("::/96"),       // deprecated IPv4-compatible
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("3fff::/20"),
	netip.MustParsePrefix("fec0::/10"),
}

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// embeddedIPv4 returns the IPv4 address that a 4in6, NAT64 (well-known
// prefix) or 6to4 address stands for.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if a.Is4In6() {
		return a.Unmap(), true
	}
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// publicAddr reports whether a is an address on the public Internet that a
// Fetcher may connect to.
func publicAddr(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.WithZone("")
	if v4, ok := embeddedIPv4(a); ok {
		return publicAddr(v4)
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// numericHost reports whether host looks like a number, as the WHATWG URL
// standard reads hosts, without being an IP address in canonical form:
// its last label is decimal digits or 0x and hex digits (2130706433,
// 0x7f000001, 0177.0.0.1, 127.1). No top-level domain is numeric, so such
// a host is never a name; resolving it would let the system's resolver
// pick an address.
func numericHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	h := strings.TrimSuffix(host, ".")
	last := h[strings.LastIndexByte(h, '.')+1:]
	if l := strings.ToLower(last); strings.HasPrefix(l, "0x") {
		last = l[2:]
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// checkAddr returns an error wrapping ErrForbiddenAddress if a is not public.
func checkAddr(a netip.Addr) error {
	if publicAddr(a) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrForbiddenAddress, a)
}

// dialControl is the net.Dialer Control hook: it runs after name
// resolution, on the very address about to be connected, so a host name
// that resolves (or re-resolves) to a private address is refused too.
func (f *Fetcher) dialControl(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrForbiddenAddress, address)
	}
	if f.allowAddr != nil && f.allowAddr(ap) {
		return nil
	}
	return checkAddr(ap.Addr())
}
