package modbus

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func FuzzDecodeResponse(f *testing.F) {
	for _, tt := range decodeTests {
		f.Add(unhex(f, tt.req), unhex(f, tt.resp))
	}
	f.Fuzz(func(t *testing.T, req, resp []byte) {
		data, err := DecodeResponse(1, req, resp)
		var ex *ExceptionError
		switch {
		case err == nil:
			if len(data) > len(resp) {
				t.Fatalf("data longer than the response")
			}
		case errors.As(err, &ex), errors.Is(err, ErrFrame), errors.Is(err, ErrRequest):
		default:
			t.Fatalf("DecodeResponse(% x, % x) = %v: not a typed error", req, resp, err)
		}
	})
}

// lineBytes replays received bytes once, then reports timeouts.
type lineBytes struct{ rx []byte }

func (l *lineBytes) Write(p []byte) (int, error) { return len(p), nil }
func (l *lineBytes) Read(p []byte) (int, error) {
	if len(l.rx) == 0 {
		time.Sleep(100 * time.Microsecond)
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, l.rx)
	l.rx = l.rx[n:]
	return n, nil
}

func FuzzRTUFrame(f *testing.F) {
	adu := func(h string) []byte {
		b := unhex(f, h)
		c := crc16(b)
		return append(b, byte(c), byte(c>>8))
	}
	f.Add(unhex(f, "03 0000 0002"), adu("01 03 04 0001 0002"))
	f.Add(unhex(f, "03 0000 0002"), append([]byte{0, 0xFF, 1}, adu("01 83 02")...))
	f.Add(unhex(f, "01 0000 0009"), adu("01 01 02 FF 01"))
	f.Add(unhex(f, "03 0000 0001"), unhex(f, "01 03 02 0000 0000"))
	f.Add(unhex(f, "06 0001 0003"), adu("01 06 0001 0003"))
	f.Fuzz(func(t *testing.T, req, line []byte) {
		r, err := NewRTU(&lineBytes{rx: line}, RTUOpts{Baud: 115200, DataBits: 8, Parity: "N", StopBits: 1, Timeout: 2 * time.Millisecond, ReadStep: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		r.silence = 0
		resp, err := r.RoundTrip(context.Background(), 1, req, make([]byte, MaxPDU))
		if err == nil {
			if want := responseLen(req); len(resp) != want && len(resp) != 2 {
				t.Fatalf("frame of %d bytes for a %d-byte response", len(resp), want)
			}
			_, err = DecodeResponse(1, req, resp)
		}
		var ex *ExceptionError
		if err != nil && !errors.As(err, &ex) && !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrCRC) && !errors.Is(err, ErrFrame) && !errors.Is(err, ErrRequest) {
			t.Fatalf("RoundTrip over % x = %v: not a typed error", line, err)
		}
	})
}
