package convert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNoMP4Info is returned when an MP4 file names no video size.
var ErrNoMP4Info = errors.New("no MP4 movie header")

// MP4Info reads a video's size and length from its MP4 boxes (ISO/IEC
// 14496-12: moov/mvhd for the length, the first moov/trak/tkhd with a size
// for the width and height) without decoding anything. It makes no
// preview: that would need a video decoder.
func MP4Info(r io.ReaderAt, size int64) (MediaInfo, error) {
	var info MediaInfo
	moov, moovSize, err := findBox(r, 0, size, "moov")
	if err != nil {
		return info, err
	}
	if off, n, err := findBox(r, moov, moovSize, "mvhd"); err == nil {
		info.Seconds = mvhdSeconds(r, off, n)
	}
	for start, end := moov, moov+moovSize; start < end; {
		off, n, err := findBox(r, start, end-start, "trak")
		if err != nil {
			break
		}
		if t, tn, err := findBox(r, off, n, "tkhd"); err == nil && tn >= 8 {
			var wh [8]byte
			if _, err := r.ReadAt(wh[:], t+tn-8); err == nil {
				w, h := binary.BigEndian.Uint32(wh[:4])>>16, binary.BigEndian.Uint32(wh[4:])>>16
				if w > 0 && h > 0 {
					info.Width, info.Height = w, h
					return info, nil
				}
			}
		}
		start = off + n
	}
	if info.Seconds == 0 {
		return info, ErrNoMP4Info
	}
	return info, nil
}

// findBox finds the first box of type name among the boxes in
// [start, start+n) and returns the offset and size of its content.
func findBox(r io.ReaderAt, start, n int64, name string) (int64, int64, error) {
	end := start + n
	var hdr [16]byte
	for off := start; off+8 <= end; {
		if _, err := r.ReadAt(hdr[:8], off); err != nil {
			return 0, 0, fmt.Errorf("%w: %w", ErrNoMP4Info, err)
		}
		boxSize, headLen := int64(binary.BigEndian.Uint32(hdr[:4])), int64(8)
		switch boxSize {
		case 0: // to the end
			boxSize = end - off
		case 1: // 64-bit size follows
			if _, err := r.ReadAt(hdr[8:16], off+8); err != nil {
				return 0, 0, fmt.Errorf("%w: %w", ErrNoMP4Info, err)
			}
			boxSize, headLen = int64(binary.BigEndian.Uint64(hdr[8:16])), 16
		}
		if boxSize < headLen || off+boxSize > end {
			return 0, 0, fmt.Errorf("%w: bad box size", ErrNoMP4Info)
		}
		if string(hdr[4:8]) == name {
			return off + headLen, boxSize - headLen, nil
		}
		off += boxSize
	}
	return 0, 0, ErrNoMP4Info
}

// mvhdSeconds reads a movie header's duration, rounded up to seconds.
func mvhdSeconds(r io.ReaderAt, off, n int64) uint32 {
	var b [32]byte
	if n < 20 {
		return 0
	}
	k, _ := r.ReadAt(b[:min(n, 32)], off)
	var scale, dur uint64
	switch {
	case b[0] == 0 && k >= 20:
		scale, dur = uint64(binary.BigEndian.Uint32(b[12:16])), uint64(binary.BigEndian.Uint32(b[16:20]))
	case b[0] == 1 && k >= 32:
		scale, dur = uint64(binary.BigEndian.Uint32(b[20:24])), binary.BigEndian.Uint64(b[24:32])
	}
	if scale == 0 {
		return 0
	}
	return uint32((dur + scale - 1) / scale)
}
