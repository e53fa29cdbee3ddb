package audio

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// rawWAV builds a WAV file by hand, so the reader is tested against bytes it
// did not write itself.
func rawWAV(format, channels uint16, rate uint32, bits uint16, data []byte, extra ...[]byte) []byte {
	var fmtChunk bytes.Buffer
	blockAlign := channels * bits / 8
	fmtChunk.Write(le(format, channels, rate, rate*uint32(blockAlign), blockAlign, bits))
	if format == wavFormatExtensible {
		// cbSize, valid bits, channel mask, sub-format GUID (tag first).
		fmtChunk.Write(le(uint16(22), bits, uint32(4), uint16(wavFormatPCM)))
		fmtChunk.Write(make([]byte, 14))
	}
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, e := range extra {
		body.Write(e)
	}
	body.WriteString("fmt ")
	_ = binary.Write(&body, binary.LittleEndian, uint32(fmtChunk.Len()))
	body.Write(fmtChunk.Bytes())
	body.WriteString("data")
	_ = binary.Write(&body, binary.LittleEndian, uint32(len(data)))
	body.Write(data)
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

func le(vals ...any) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	return b.Bytes()
}

func TestReadWAVFormats(t *testing.T) {
	odd := []byte("LIST\x03\x00\x00\x00abc\x00") // odd-sized chunk, padded
	tests := []struct {
		name     string
		file     []byte
		rate     int
		channels int
		want     []float64
	}{
		{"16-bit mono", rawWAV(1, 1, 16000, 16, le(int16(0), int16(16384), int16(-32768))), 16000, 1, []float64{0, 0.5, -1}},
		{"8-bit unsigned", rawWAV(1, 1, 8000, 8, []byte{128, 192, 0}), 8000, 1, []float64{0, 0.5, -1}},
		{"24-bit", rawWAV(1, 1, 48000, 24, []byte{0, 0, 0x40, 0, 0, 0xC0}), 48000, 1, []float64{0.5, -0.5}},
		{"32-bit int", rawWAV(1, 1, 44100, 32, le(int32(1<<30))), 44100, 1, []float64{0.5}},
		{"float32", rawWAV(3, 1, 22050, 32, le(float32(0.25), float32(-0.75))), 22050, 1, []float64{0.25, -0.75}},
		{"float64 clamped", rawWAV(3, 1, 22050, 64, le(1.5, math.NaN())), 22050, 1, []float64{1, 0}},
		{"stereo mixed down", rawWAV(1, 2, 16000, 16, le(int16(16384), int16(0))), 16000, 2, []float64{0.25}},
		{"extensible PCM", rawWAV(wavFormatExtensible, 1, 16000, 16, le(int16(-16384))), 16000, 1, []float64{-0.5}},
		{"padded odd chunk first", rawWAV(1, 1, 16000, 16, le(int16(8192)), odd), 16000, 1, []float64{0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ReadWAV(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if w.Rate != tt.rate || w.Channels != tt.channels {
				t.Errorf("rate, channels = %d, %d; want %d, %d", w.Rate, w.Channels, tt.rate, tt.channels)
			}
			if len(w.Samples) != len(tt.want) {
				t.Fatalf("samples = %v, want %v", w.Samples, tt.want)
			}
			for i := range tt.want {
				if math.Abs(w.Samples[i]-tt.want[i]) > 1e-6 {
					t.Errorf("sample %d = %v, want %v", i, w.Samples[i], tt.want[i])
				}
			}
		})
	}
}

func TestReadWAVErrors(t *testing.T) {
	good := rawWAV(1, 1, 16000, 16, le(int16(1), int16(2)))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "not a WAV file"},
		{"mp3", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00"), "not a WAV file"},
		{"truncated fmt", good[:30], `"fmt " chunk says 16 bytes but only 10 remain`},
		{"no data", good[:36], "no data chunk"},
		{"mp3 in WAV", rawWAV(0x55, 1, 16000, 16, nil), "unsupported sample format: tag 0x0055"},
		{"12-bit", rawWAV(1, 1, 16000, 12, nil), "with 12 bits"},
		{"no channels", rawWAV(1, 0, 16000, 16, nil), "0 channels"},
		{"absurd rate", rawWAV(1, 1, 5, 16, nil), "sample rate 5 Hz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadWAV(tt.file)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadWAV error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestWAVRoundTrip(t *testing.T) {
	p := PCM{Rate: 16000, Samples: []int16{0, 1, -1, 32767, -32768, 1234}}
	var buf bytes.Buffer
	if err := WriteWAV(&buf, p); err != nil {
		t.Fatal(err)
	}
	w, err := ReadWAV(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if w.Rate != 16000 || w.Channels != 1 || w.BitsPerSample != 16 || len(w.Samples) != len(p.Samples) {
		t.Fatalf("read back %+v", w)
	}
	for i, v := range p.Samples {
		if got := toInt16(w.Samples[i]); got != v {
			t.Errorf("sample %d = %d, want %d", i, got, v)
		}
	}
}

// A streamed WAV (sox to a pipe) has a data size it could not know; the
// samples that are there must still be read.
func TestReadWAVUnsizedData(t *testing.T) {
	f := rawWAV(1, 1, 16000, 16, le(int16(100), int16(200)))
	binary.LittleEndian.PutUint32(f[40:], 0xFFFFFFFF)
	w, err := ReadWAV(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Samples) != 2 {
		t.Fatalf("got %d samples, want 2", len(w.Samples))
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(rawWAV(1, 1, 16000, 16, le(int16(1), int16(2))))
	f.Add(rawWAV(3, 2, 44100, 32, le(float32(0.5), float32(-0.5))))
	f.Add(rawWAV(wavFormatExtensible, 1, 48000, 24, []byte{1, 2, 3}))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ReadWAV(data)
		if err != nil {
			return
		}
		if w.Channels < 1 || w.Rate < 1000 {
			t.Fatalf("accepted channels %d rate %d", w.Channels, w.Rate)
		}
		for i, v := range w.Samples {
			if v < -1 || v > 1 || math.IsNaN(v) {
				t.Fatalf("sample %d = %v outside [-1, 1]", i, v)
			}
		}
	})
}
