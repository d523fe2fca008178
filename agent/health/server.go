package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// DefaultAddr is where the server listens when Options.Addr is empty:
// loopback only.
const DefaultAddr = "127.0.0.1:9377"

// DefaultMaxClients is how many status pages may stream /events at once
// when Options.MaxClients is 0.
const DefaultMaxClients = 8

// Options configure Start. Snapshot is required.
type Options struct {
	// Addr is the host:port to listen on; empty means DefaultAddr. A host
	// that is not a loopback address (127.0.0.0/8, ::1, localhost),
	// including an empty host, is refused unless AllowRemote is set:
	// the endpoints have no authentication.
	Addr        string
	AllowRemote bool
	// Snapshot reports the agent's current figures. It is called from
	// the server's HTTP goroutines, possibly several at once, so it must
	// be safe for concurrent use, quick (no I/O) and must return slices
	// that nobody modifies afterwards.
	Snapshot func() Snapshot
	// Version is the agent's build version, exposed as vigil_build_info.
	Version string
	// Interval is the time between two /events messages; 0 means 1 s.
	Interval time.Duration
	// MaxClients bounds the /events streams open at once; 0 means
	// DefaultMaxClients. Further clients get 503.
	MaxClients int
	// Now is the clock for snapshots that leave Time zero; optional,
	// time.Now by default.
	Now func() time.Time
	// Logger receives the server's own failures; optional.
	Logger *slog.Logger
}

// Server serves /metrics, /healthz, /status.json, /events and the status
// page. Its methods are safe for concurrent use.
type Server struct {
	o       Options
	ln      net.Listener
	srv     *http.Server
	set     *metrics.Set                 // this server's own metrics: the histogram
	infer   *metrics.PrometheusHistogram // vigil_inference_seconds, in set
	clients atomic.Int32
	done    chan struct{} // closed by Close: ends the /events streams
	served  chan struct{} // closed when Serve returns
	close   sync.Once
}

// The http.Server's limits. A stream's write deadline is renewed before
// each message.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 10 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 8 << 10
)

// Start checks o, listens on o.Addr and serves in a goroutine until
// Close. The error names the option or the address at fault.
func Start(o Options) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	s := newServer(o)
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("health: listen on %s: %w", o.Addr, err)
	}
	s.ln = ln
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.o.Logger.Error("health: serving stopped", "addr", s.Addr(), "err", err)
		}
	}()
	return s, nil
}

// withDefaults checks o and fills in the defaults of its zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.Snapshot == nil {
		return o, errors.New("health: Options.Snapshot is nil: the server needs a snapshot callback")
	}
	if o.Addr == "" {
		o.Addr = DefaultAddr
	}
	if err := checkAddr(o.Addr, o.AllowRemote); err != nil {
		return o, err
	}
	if o.Interval < 0 || o.MaxClients < 0 {
		return o, fmt.Errorf("health: interval %v, max clients %d: want 0 (default) or more", o.Interval, o.MaxClients)
	}
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.MaxClients == 0 {
		o.MaxClients = DefaultMaxClients
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// newServer builds a server for options withDefaults returned, without
// listening.
func newServer(o Options) *Server {
	s := &Server{o: o, set: metrics.NewSet(), done: make(chan struct{}), served: make(chan struct{})}
	s.infer = s.set.NewPrometheusHistogramExt(metricInferSeconds, inferBuckets)
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// checkAddr refuses an address that is malformed, or not loopback unless
// remote is allowed. It does not resolve names: only "localhost" counts
// as a loopback name.
func checkAddr(addr string, remote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("health: address %q: %w", addr, err)
	}
	if remote {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("health: address %q is not a loopback address and the status page has no authentication; "+
		"listen on 127.0.0.1 (and reach it through an SSH tunnel) or set AllowRemote to serve every interface", addr)
}

// ObserveInference records how long one sample's inference took, for the
// vigil_inference_seconds histogram. It allocates nothing, takes one
// short lock, and may be called on a nil Server (it does nothing).
func (s *Server) ObserveInference(d time.Duration) {
	if s == nil {
		return
	}
	s.infer.Update(d.Seconds())
}

// Addr returns the address the server listens on, with the port the
// system chose for port 0.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close ends the /events streams and shuts the server down, waiting for
// other requests in progress until ctx ends; then it closes their
// connections. It is safe to call more than once.
func (s *Server) Close(ctx context.Context) error {
	var err error
	s.close.Do(func() {
		close(s.done)
		if err = s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
			err = fmt.Errorf("health: shutting down %s: %w", s.Addr(), err)
		}
		<-s.served
	})
	return err
}

// snapshot returns the agent's snapshot with its time filled in.
func (s *Server) snapshot() Snapshot {
	snap := s.o.Snapshot()
	if snap.Time.IsZero() {
		snap.Time = s.o.Now()
	}
	return snap
}
