package media

import (
	"errors"
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"2a00:1450:4001:80b::200e", true},
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"172.32.0.1", true},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff0e::1", false},
		{"100.64.0.1", false},
		{"192.0.2.1", false},
		{"198.18.0.1", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::7f00:1", false}, // NAT64 of 127.0.0.1
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:7f00:1::", false},   // 6to4 of 127.0.0.1
		{"2002:808:808::", true},
		{"2001:db8::1", false},
		{"fec0::1", false},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := publicAddr(a); got != tc.public {
			t.Errorf("publicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
		err := checkAddr(a)
		if tc.public != (err == nil) || (err != nil && !errors.Is(err, ErrForbiddenAddress)) {
			t.Errorf("checkAddr(%s) = %v", tc.addr, err)
		}
	}
	if publicAddr(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

func TestDialControl(t *testing.T) {
	f := &Fetcher{}
	if err := f.dialControl("tcp", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("loopback: %v", err)
	}
	if err := f.dialControl("tcp6", "[fe80::1%lo]:443", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("link-local with zone: %v", err)
	}
	if err := f.dialControl("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("public: %v", err)
	}
	if err := f.dialControl("tcp", "garbage", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Errorf("unparsable: %v", err)
	}
}
