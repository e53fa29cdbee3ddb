package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// WAV is a decoded WAV file, mixed down to mono.
type WAV struct {
	Rate          int
	Channels      int
	BitsPerSample int
	Float         bool
	// Samples are the mono samples in [-1, 1]; a multi-channel file is
	// averaged across its channels.
	Samples []float64
}

// Duration is how long the sound lasts.
func (w WAV) Duration() float64 { return float64(len(w.Samples)) / float64(w.Rate) }

const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatExtensible = 0xFFFE
	// maxWAVChannels bounds what a voice clip may carry; anything wider is
	// not a voice recording.
	maxWAVChannels = 8
)

// ReadWAV decodes a RIFF WAVE file holding integer PCM (8, 16, 24 or 32 bits)
// or IEEE float (32 or 64 bits), including WAVE_FORMAT_EXTENSIBLE. It reads
// the whole of data, which is what a clip file is.
func ReadWAV(data []byte) (WAV, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return WAV{}, errors.New("not a WAV file (no RIFF/WAVE header)")
	}
	var (
		w       WAV
		haveFmt bool
		format  uint16
		body    []byte
		haveDat bool
	)
	rest := data[12:]
	for len(rest) >= 8 {
		id := string(rest[0:4])
		size := binary.LittleEndian.Uint32(rest[4:8])
		rest = rest[8:]
		if uint64(size) > uint64(len(rest)) {
			if id != "data" {
				return WAV{}, fmt.Errorf("%q chunk says %d bytes but only %d remain", id, size, len(rest))
			}
			// Writers that stream (sox to a pipe, some recorders) leave
			// the data size unset; take what is there.
			size = uint32(len(rest))
		}
		chunk := rest[:size]
		rest = rest[size:]
		if size%2 == 1 && len(rest) > 0 {
			rest = rest[1:] // chunks are padded to an even length
		}
		switch id {
		case "fmt ":
			if len(chunk) < 16 {
				return WAV{}, fmt.Errorf("fmt chunk is %d bytes, want at least 16", len(chunk))
			}
			format = binary.LittleEndian.Uint16(chunk[0:2])
			w.Channels = int(binary.LittleEndian.Uint16(chunk[2:4]))
			w.Rate = int(binary.LittleEndian.Uint32(chunk[4:8]))
			w.BitsPerSample = int(binary.LittleEndian.Uint16(chunk[14:16]))
			if format == wavFormatExtensible {
				if len(chunk) < 26 {
					return WAV{}, fmt.Errorf("extensible fmt chunk is %d bytes, want at least 26", len(chunk))
				}
				// The sub-format GUID starts with the plain format tag.
				format = binary.LittleEndian.Uint16(chunk[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return WAV{}, errors.New("data chunk comes before the fmt chunk")
			}
			body = chunk
			haveDat = true
		}
		if haveDat {
			break
		}
	}
	switch {
	case !haveFmt:
		return WAV{}, errors.New("no fmt chunk")
	case !haveDat:
		return WAV{}, errors.New("no data chunk")
	case w.Channels < 1 || w.Channels > maxWAVChannels:
		return WAV{}, fmt.Errorf("%d channels; a voice clip has 1 (or up to %d, mixed down)", w.Channels, maxWAVChannels)
	case w.Rate < 1000 || w.Rate > 384000:
		return WAV{}, fmt.Errorf("sample rate %d Hz is not a sound rate", w.Rate)
	}
	decode, err := sampleDecoder(format, w.BitsPerSample)
	if err != nil {
		return WAV{}, err
	}
	w.Float = format == wavFormatFloat
	width := w.BitsPerSample / 8
	frameBytes := width * w.Channels
	frames := len(body) / frameBytes
	w.Samples = make([]float64, frames)
	for i := range frames {
		frame := body[i*frameBytes : (i+1)*frameBytes]
		var sum float64
		for c := range w.Channels {
			sum += decode(frame[c*width : (c+1)*width])
		}
		w.Samples[i] = sum / float64(w.Channels)
	}
	return w, nil
}

// sampleDecoder returns a function turning one little-endian sample into
// [-1, 1].
func sampleDecoder(format uint16, bits int) (func([]byte) float64, error) {
	switch {
	case format == wavFormatPCM && bits == 8:
		return func(b []byte) float64 { return (float64(b[0]) - 128) / 128 }, nil
	case format == wavFormatPCM && bits == 16:
		return func(b []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(b))) / 32768 }, nil
	case format == wavFormatPCM && bits == 24:
		return func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / (1 << 23)
		}, nil
	case format == wavFormatPCM && bits == 32:
		return func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31) }, nil
	case format == wavFormatFloat && bits == 32:
		return func(b []byte) float64 {
			return clampUnit(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		}, nil
	case format == wavFormatFloat && bits == 64:
		return func(b []byte) float64 { return clampUnit(math.Float64frombits(binary.LittleEndian.Uint64(b))) }, nil
	}
	return nil, fmt.Errorf("unsupported sample format: tag %#04x with %d bits (want integer PCM 8/16/24/32 or float 32/64)", format, bits)
}

// clampUnit keeps a float sample in [-1, 1]; NaN becomes silence.
func clampUnit(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v > 1:
		return 1
	case v < -1:
		return -1
	}
	return v
}

// WriteWAV writes p as a 16-bit mono PCM WAV file.
func WriteWAV(w io.Writer, p PCM) error {
	dataBytes := 2 * len(p.Samples)
	var h bytes.Buffer
	h.WriteString("RIFF")
	_ = binary.Write(&h, binary.LittleEndian, uint32(36+dataBytes))
	h.WriteString("WAVEfmt ")
	_ = binary.Write(&h, binary.LittleEndian, struct {
		Size          uint32
		Format        uint16
		Channels      uint16
		Rate          uint32
		ByteRate      uint32
		BlockAlign    uint16
		BitsPerSample uint16
	}{16, wavFormatPCM, 1, uint32(p.Rate), uint32(2 * p.Rate), 2, 16})
	h.WriteString("data")
	_ = binary.Write(&h, binary.LittleEndian, uint32(dataBytes))
	if _, err := w.Write(h.Bytes()); err != nil {
		return fmt.Errorf("writing WAV header: %w", err)
	}
	body := make([]byte, dataBytes)
	for i, v := range p.Samples {
		binary.LittleEndian.PutUint16(body[2*i:], uint16(v))
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("writing WAV samples: %w", err)
	}
	return nil
}
