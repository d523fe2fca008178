package health

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/vigil-edge/vigil/infer/decide"
)

// chromium is Debian's headless-capable browser, which the page test
// drives.
const chromium = "/usr/bin/chromium"

// injected is a channel name with markup, as a hostile or careless
// configuration could give: the page must show it as text.
const injected = `<b id="injected">Pressure</b>`

// risingSnapshot is a gateway whose score climbs across the threshold:
// normal for the first two seconds after the first call (the page's
// first request, however long the browser took to start), an anomaly
// after.
func risingSnapshot() func() Snapshot {
	var once sync.Once
	var start time.Time
	return func() Snapshot {
		now := time.Now()
		once.Do(func() { start = now })
		el := now.Sub(start).Seconds()
		score := 0.2 + 0.2*el
		share := math.Min(0.9, 0.3+0.1*el)
		st := decide.Normal
		if el >= 2 {
			st = decide.Anomaly
		}
		return Snapshot{
			Time: now, Name: "plant-3/pump-7", State: st, Score: score, Threshold: 0.5, AlarmAbove: 0.6, NormalAt: 0.35,
			Channels: []Channel{
				{Name: injected, Value: 1.2 + 0.3*el, Share: share},
				{Name: "Volume Flow RateRMS", Value: 32 - el, Share: (1 - share) * 0.7},
				{Name: "Temperature", Value: 71.5, Share: (1 - share) * 0.3},
			},
			Model:      ModelInfo{Loaded: true, ID: "pump-ae-2025-03", Version: 7, Signer: "a1b2c3d4e5f60718", K: 3, N: 5},
			Samples:    uint64(el * 10),
			LastSample: now.Add(-50 * time.Millisecond),
			StaleAfter: 5 * time.Second,
			Outbox:     OutboxInfo{Pending: 1, PendingAlerts: 1, Oldest: 300 * time.Millisecond, Durable: true},
			Broker: BrokerInfo{Connected: true, URL: "tcp://127.0.0.1:1883", LastError: "connection refused (broker restarting)",
				Connects: 2, Failures: 1, Sent: 17},
			Sources: []SourceInfo{{Name: "rtu0", ReadErrors: 1, Modbus: []SlaveInfo{{Slave: 1, Requests: 420, Timeouts: 2, CRCErrors: 1}}}},
		}
	}
}

// TestStatusPageBrowser loads the status page in headless Chromium while
// the score rises across the threshold, and checks that the chart gains
// points, the state turns to a red "anomaly", channel names stay text,
// and the page raises no script or policy errors. It saves a screenshot
// in the test's temporary directory, and at $VIGIL_SCREENSHOT if set.
func TestStatusPageBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the status page test needs Debian's chromium at %s (%v); install it with: apt-get install -y chromium", chromium, err)
	}
	s := startServer(t, Options{Snapshot: risingSnapshot(), Version: "v1.2.3-test", Interval: 250 * time.Millisecond})

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // root in a container
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx, chromedp.WithErrorf(t.Logf))
	defer cancelBrowser()

	var mu sync.Mutex
	var pageErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			pageErrors = append(pageErrors, "exception: "+ev.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded: // CSP violations, failed loads
			if ev.Entry.Level == cdplog.LevelError || ev.Entry.Level == cdplog.LevelWarning {
				pageErrors = append(pageErrors, fmt.Sprintf("%s %s: %s %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				pageErrors = append(pageErrors, fmt.Sprintf("console.%s: %v", ev.Type, ev.Args))
			}
		}
	})

	url := "http://" + s.Addr() + "/"
	if err := chromedp.Run(ctx, cdplog.Enable(), chromedp.Navigate(url)); err != nil {
		t.Fatalf("chromium at %s: loading %s: %v", chromium, url, err)
	}
	// page reads the elements the test watches.
	type page struct {
		State, StateColor, Points, Last, Conn, Channels, Model string
		Injected                                               bool
	}
	const read = `(() => {
		const c = document.getElementById("chart");
		const st = document.getElementById("state");
		return {State: st.textContent, StateColor: getComputedStyle(st).backgroundColor,
			Points: c.dataset.points, Last: c.dataset.last, Conn: document.getElementById("conn").textContent,
			Channels: document.querySelector("#channels tbody").textContent,
			Model: document.getElementById("model-kn").textContent,
			Injected: document.getElementById("injected") !== null};
	})()`
	// ink counts the chart's pixels in the score line's blue.
	const ink = `(() => {
		const c = document.getElementById("chart");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 0; i < d.length; i += 4) if (d[i+3] > 0 && d[i+2] > 150 && d[i] < 80) n++;
		return n;
	})()`
	waitFor := func(what string, ok func(page) bool) page {
		t.Helper()
		var p page
		deadline := time.Now().Add(15 * time.Second)
		for {
			if err := chromedp.Run(ctx, chromedp.Evaluate(read, &p)); err != nil {
				t.Fatalf("reading the page: %v", err)
			}
			if ok(p) {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("the page never showed %s; it shows %+v", what, p)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	points := func(p page) int { n, _ := strconv.Atoi(p.Points); return n }

	before := waitFor("a normal state with a point on the chart", func(p page) bool { return p.State == "normal" && points(p) >= 1 })
	after := waitFor("the anomaly", func(p page) bool { return p.State == "anomaly" })
	after = waitFor("more points", func(p page) bool { return points(p) > points(before)+2 })

	if after.Last == before.Last {
		t.Errorf("the chart's last score stayed %q", after.Last)
	}
	if last, err := strconv.ParseFloat(after.Last, 64); err != nil || last <= 0.5 {
		t.Errorf("last score %q after the anomaly, want above the threshold 0.5", after.Last)
	}
	if after.StateColor != "rgb(198, 40, 40)" {
		t.Errorf("the anomaly state's colour is %s, want red rgb(198, 40, 40)", after.StateColor)
	}
	var inked int
	if err := chromedp.Run(ctx, chromedp.Evaluate(ink, &inked)); err != nil || inked == 0 {
		t.Errorf("no score line drawn on the chart (%v)", err)
	}
	if after.Conn != "live" {
		t.Errorf("connection shown as %q, want live", after.Conn)
	}
	if after.Injected || !strings.Contains(after.Channels, injected) {
		t.Errorf("a channel name's markup became HTML (element made: %v) or vanished: %q", after.Injected, after.Channels)
	}
	if after.Model != "anomaly after 3 of the last 5 scores above 0.6, normal again once 3 are at or below 0.35" {
		t.Errorf("decision shown as %q", after.Model)
	}

	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(t.TempDir(), "status-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if p := os.Getenv("VIGIL_SCREENSHOT"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Errorf("VIGIL_SCREENSHOT: %v", err)
		} else {
			t.Logf("screenshot: %s", p)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range pageErrors {
		t.Errorf("page: %s", e)
	}
}
