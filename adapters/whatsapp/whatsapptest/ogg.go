package whatsapptest

import (
	"bytes"
	"encoding/binary"
)

// oggPage is one Ogg page (RFC 3533) holding whole packets.
func oggPage(seq uint32, granule int64, flags byte, packets ...[]byte) []byte {
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := make([]byte, 27)
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], uint64(granule))
	binary.LittleEndian.PutUint32(h[14:], 0x1234)
	binary.LittleEndian.PutUint32(h[18:], seq)
	h[26] = byte(len(lacing))
	page := append(append(h, lacing...), body...)
	binary.LittleEndian.PutUint32(page[22:], oggCRC(page))
	return page
}

// oggCRC is Ogg's CRC-32 (polynomial 0x04c11db7, not reflected).
func oggCRC(b []byte) uint32 {
	var table [256]uint32
	for i := range table {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		table[i] = r
	}
	var crc uint32
	for _, c := range b {
		crc = crc<<8 ^ table[byte(crc>>24)^c]
	}
	return crc
}

// OggOpus is an Ogg Opus stream of secs seconds: 50 packets of 20 ms per
// second, loud (large) in the middle second, a 312-sample pre-skip.
func OggOpus(secs int) []byte {
	head := []byte("OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00")
	out := append(oggPage(0, 0, 2, head), oggPage(1, 0, 0, []byte("OpusTags\x00\x00\x00\x00\x00\x00\x00\x00"))...)
	const preSkip = 312
	seq := uint32(2)
	for s := range secs {
		var packets [][]byte
		for range 50 {
			size := 10
			if s == secs/2 {
				size = 120
			}
			packets = append(packets, bytes.Repeat([]byte{0x55}, size))
		}
		flags := byte(0)
		if s == secs-1 {
			flags = 4
		}
		out = append(out, oggPage(seq, int64(preSkip+(s+1)*48000), flags, packets...)...)
		seq++
	}
	return out
}
