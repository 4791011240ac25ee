package convert

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// opusRate is the rate of Opus granule positions (RFC 7845 §4).
const opusRate = 48000

// waveformSamples is how many bars WhatsApp draws for a voice message.
const waveformSamples = 64

// ErrNotOggOpus is returned for audio that is not an Ogg Opus stream.
var ErrNotOggOpus = errors.New("not an Ogg Opus stream")

// OggOpusInfo reads an Ogg Opus stream's length and a waveform without
// decoding the audio: the length from the last page's granule position
// minus the pre-skip (RFC 7845), the waveform from the sizes of the Opus
// packets (a variable-bitrate encoder spends more bytes on louder, busier
// sound, so the sizes follow the loudness roughly; silence is the smallest
// packets). Only the first logical stream is read.
func OggOpusInfo(r io.Reader) (MediaInfo, error) {
	br := bufio.NewReader(r)
	var (
		serial    uint32
		first     = true
		preSkip   int64
		granule   int64
		packets   []int
		packet    int
		packetNum int
		header    [27]byte
		lacing    [255]byte
	)
	for {
		if _, err := io.ReadFull(br, header[:]); err != nil {
			if errors.Is(err, io.EOF) && !first {
				break
			}
			return MediaInfo{}, fmt.Errorf("%w: %w", ErrNotOggOpus, err)
		}
		if string(header[:4]) != "OggS" || header[4] != 0 {
			return MediaInfo{}, fmt.Errorf("%w: no Ogg page", ErrNotOggOpus)
		}
		pageSerial := binary.LittleEndian.Uint32(header[14:18])
		if first {
			serial = pageSerial
		}
		n := int(header[26])
		if _, err := io.ReadFull(br, lacing[:n]); err != nil {
			return MediaInfo{}, fmt.Errorf("%w: %w", ErrNotOggOpus, err)
		}
		size := 0
		for _, l := range lacing[:n] {
			size += int(l)
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(br, body); err != nil {
			return MediaInfo{}, fmt.Errorf("%w: %w", ErrNotOggOpus, err)
		}
		if pageSerial != serial {
			continue
		}
		if first {
			// RFC 7845 §5.1: "OpusHead", version, channels, pre-skip.
			if len(body) < 19 || !bytes.HasPrefix(body, []byte("OpusHead")) {
				return MediaInfo{}, fmt.Errorf("%w: no OpusHead", ErrNotOggOpus)
			}
			preSkip = int64(binary.LittleEndian.Uint16(body[10:12]))
			first = false
		}
		if g := int64(binary.LittleEndian.Uint64(header[6:14])); g >= 0 {
			granule = g
		}
		for _, l := range lacing[:n] {
			packet += int(l)
			if l < 255 {
				// Packets 0 and 1 are the headers (OpusHead, OpusTags).
				if packetNum >= 2 {
					packets = append(packets, packet)
				}
				packetNum++
				packet = 0
			}
		}
	}
	info := MediaInfo{Waveform: waveform(packets)}
	if samples := granule - preSkip; samples > 0 {
		info.Seconds = uint32((samples + opusRate - 1) / opusRate)
	}
	return info, nil
}

// waveform groups packet sizes into waveformSamples bars scaled to 0..100.
func waveform(sizes []int) []byte {
	if len(sizes) == 0 {
		return nil
	}
	bars := make([]float64, waveformSamples)
	lo, hi := sizes[0], sizes[0]
	for _, s := range sizes {
		lo, hi = min(lo, s), max(hi, s)
	}
	for i := range bars {
		from := i * len(sizes) / waveformSamples
		to := max(from+1, (i+1)*len(sizes)/waveformSamples)
		sum := 0
		for _, s := range sizes[from:min(to, len(sizes))] {
			sum += s
		}
		bars[i] = float64(sum) / float64(min(to, len(sizes))-from)
	}
	out := make([]byte, waveformSamples)
	if hi == lo {
		return out
	}
	for i, b := range bars {
		out[i] = byte(min(100, max(0, (b-float64(lo))*100/float64(hi-lo))))
	}
	return out
}
