package serial_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors"
	"github.com/vigil-edge/vigil/sensors/serial"
)

// Lines from any io.ReadCloser (here a recording) go through the same
// framing as a serial device: a header maps the columns, bad lines are
// counted and skipped.
func ExampleNewReader() {
	rec := "datetime;Pressure;Current;Volume Flow RateRMS\n" +
		"2020-02-08 13:30:47;0.382638;2.16975;122.664\n" +
		"sensor 2 timeout\n" +
		"2020-02-08 13:30:48;-0.273216;;122.338\n"
	src, err := serial.NewReader(io.NopCloser(strings.NewReader(rec)), serial.Opts{
		Device:   "recording.csv",
		Channels: []string{"Current", "Pressure"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer src.Close()
	s := sensors.Sample{Values: make([]float32, len(src.Channels()))}
	for {
		err := src.Read(context.Background(), &s)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(s.Time.Format(time.DateTime), s.Values)
	}
	fmt.Printf("%+v\n", src.Stats())
	// Output:
	// 2020-02-08 13:30:47 [2.16975 0.382638]
	// 2020-02-08 13:30:48 [NaN -0.273216]
	// {Lines:4 Bad:1 Headers:1 Losses:0}
}

// A device that prints bare lines needs its column list; Read waits at most
// ReadTimeout per device read, so cancelling ctx ends the loop promptly.
func ExampleOpen() {
	src, err := serial.Open(serial.Opts{
		Device:   "/dev/ttyUSB0",
		Baud:     115200,
		Columns:  []string{"datetime", "Current", "Pressure"},
		Channels: []string{"Pressure", "Current"},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Println("no device:", err != nil)
		return
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s := sensors.Sample{Values: make([]float32, 2)}
	for src.Read(ctx, &s) == nil {
		fmt.Println(s.Values)
	}
}
