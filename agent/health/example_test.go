package health_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/vigil-edge/vigil/agent/health"
	"github.com/vigil-edge/vigil/infer/decide"
)

// An agent serves its health on loopback: the snapshot callback reads
// figures the sampling loop keeps in atomics, and the loop reports each
// inference's duration.
func ExampleStart() {
	var samples atomic.Uint64
	var lastSample atomic.Int64 // unix nanoseconds
	srv, err := health.Start(health.Options{
		Addr:    "127.0.0.1:0", // a free port; the default is health.DefaultAddr
		Version: "v1.0.0",
		Snapshot: func() health.Snapshot {
			return health.Snapshot{
				State: decide.Normal, Score: math.NaN(), Threshold: 0.5,
				Model:      health.ModelInfo{Loaded: true, ID: "pump-ae", Version: 3, K: 3, N: 5},
				Samples:    samples.Load(),
				LastSample: time.Unix(0, lastSample.Load()),
				StaleAfter: 5 * time.Second,
				Outbox:     health.OutboxInfo{Durable: true},
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close(context.Background())

	// The sampling loop.
	start := time.Now()
	samples.Add(1)
	lastSample.Store(time.Now().UnixNano())
	srv.ObserveInference(time.Since(start))

	resp, err := http.Get("http://" + srv.Addr() + "/healthz")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("%d %s", resp.StatusCode, body)
	// Output: 200 ok
}

// Start refuses to serve every interface unless told to: the endpoints
// have no authentication.
func ExampleStart_remote() {
	_, err := health.Start(health.Options{Addr: ":9377", Snapshot: func() health.Snapshot { return health.Snapshot{} }})
	fmt.Println(err != nil)
	// Output: true
}
