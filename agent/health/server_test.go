package health

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		err    string // "" for none, else a part of the message
	}{
		{"127.0.0.1:9377", false, ""},
		{"127.8.9.10:0", false, ""},
		{"[::1]:9377", false, ""},
		{"localhost:9377", false, ""},
		{":9377", false, "not a loopback address"},
		{"0.0.0.0:9377", false, "not a loopback address"},
		{"[::]:9377", false, "not a loopback address"},
		{"192.168.1.20:9377", false, "not a loopback address"},
		{"gateway.local:9377", false, "not a loopback address"},
		{"0.0.0.0:9377", true, ""},
		{":9377", true, ""},
		{"127.0.0.1", false, "missing port"},
		{"127.0.0.1", true, "missing port"},
	} {
		err := checkAddr(tc.addr, tc.remote)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("checkAddr(%q, %v) = %v, want nil", tc.addr, tc.remote, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("checkAddr(%q, %v) = %v, want an error saying %q", tc.addr, tc.remote, err, tc.err)
		}
	}
}

func TestStartRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		err  string
	}{
		{"no snapshot", Options{Addr: "127.0.0.1:0"}, "Options.Snapshot is nil"},
		{"remote", Options{Addr: "0.0.0.0:0", Snapshot: fixedSnapshot}, `address "0.0.0.0:0" is not a loopback address`},
		{"negative interval", Options{Addr: "127.0.0.1:0", Snapshot: fixedSnapshot, Interval: -time.Second}, "interval -1s"},
		{"negative clients", Options{Addr: "127.0.0.1:0", Snapshot: fixedSnapshot, MaxClients: -1}, "max clients -1"},
		{"bad port", Options{Addr: "127.0.0.1:http-alt-x", Snapshot: fixedSnapshot}, "listen on 127.0.0.1:http-alt-x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Start(tc.o)
			if err == nil {
				s.Close(context.Background())
				t.Fatalf("Start(%+v) succeeded, want an error saying %q", tc.o, tc.err)
			}
			if !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Start: %v, want an error saying %q", err, tc.err)
			}
		})
	}
}

// TestRoutes checks status codes, content types and the defensive
// headers of every endpoint and of what is not one.
func TestRoutes(t *testing.T) {
	s := testServer(t, fixedSnapshot)
	for _, tc := range []struct {
		method, path string
		code         int
		ctype        string // a prefix of the Content-Type
	}{
		{"GET", "/", 200, "text/html"},
		{"HEAD", "/", 200, "text/html"},
		{"GET", "/static/app.js", 200, "text/javascript"},
		{"GET", "/static/style.css", 200, "text/css"},
		{"GET", "/static/favicon.svg", 200, "image/svg+xml"},
		{"GET", "/static/index.html", 404, ""},
		{"GET", "/static/", 404, ""},
		{"GET", "/index.html", 404, ""},
		{"GET", "/metrics", 200, "text/plain"},
		{"GET", "/healthz", 200, "text/plain"},
		{"GET", "/status.json", 200, "application/json"},
		{"HEAD", "/events", 200, "text/event-stream"},
		{"GET", "/nothing", 404, ""},
		{"POST", "/healthz", 405, ""},
		{"PUT", "/", 405, ""},
		{"DELETE", "/status.json", 405, ""},
		{"OPTIONS", "/metrics", 405, ""},
		{"POST", "/nothing", 405, ""},
	} {
		w := serve(s, tc.method, tc.path)
		if w.Code != tc.code {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, w.Code, tc.code)
		}
		if ct := w.Header().Get("Content-Type"); tc.ctype != "" && !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("%s %s: Content-Type %q, want %s", tc.method, tc.path, ct, tc.ctype)
		}
		if tc.method == "HEAD" && w.Body.Len() > 0 {
			t.Errorf("HEAD %s: a body of %d bytes", tc.path, w.Body.Len())
		}
		if tc.code == 405 && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q, want GET, HEAD", tc.method, tc.path, w.Header().Get("Allow"))
		}
		for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy"} {
			if w.Header().Get(h) == "" {
				t.Errorf("%s %s: no %s header", tc.method, tc.path, h)
			}
		}
	}
}

// TestPageSelfContained checks that the page loads nothing from
// elsewhere: no URL with a scheme or a protocol-relative one.
func TestPageSelfContained(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "style.css", "favicon.svg"} {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil) // a name, not a load
		for _, bad := range []string{"http://", "https://", "xlink:href", `src="//`, `href="//`, "url(", "@import", "innerHTML", "outerHTML", "document.write", "eval("} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
}

// TestServerLimits checks the http.Server's timeouts are set.
func TestServerLimits(t *testing.T) {
	srv := testServer(t, fixedSnapshot).srv
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("limits: header %v read %v write %v idle %v max header %d", srv.ReadHeaderTimeout, srv.ReadTimeout,
			srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

// TestCloseEndsStreams checks that Close returns promptly while a status
// page streams, and that it is safe twice.
func TestCloseEndsStreams(t *testing.T) {
	s, err := Start(Options{Addr: "127.0.0.1:0", Snapshot: fixedSnapshot, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatalf("reading the first event: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v with a stream open", d)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		t.Error("the server still answers after Close")
	}
}
