package eval

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The SKAB tests read testdata/skab (see its README.md for provenance):
// the test parts of the 17 dev files (datetime, anomaly, changepoint) and
// the published per-file reference figures.

// skabFiles are the dev files, named as in the reference CSV after "data/".
var skabFiles = []string{
	"valve1/0.csv", "valve1/2.csv", "valve1/4.csv", "valve1/6.csv",
	"valve1/8.csv", "valve1/10.csv", "valve1/12.csv", "valve1/14.csv",
	"valve2/0.csv", "valve2/2.csv",
	"other/1.csv", "other/2.csv", "other/5.csv", "other/7.csv",
	"other/9.csv", "other/10.csv", "other/12.csv",
}

// skabPart is the test part of one SKAB file.
type skabPart struct {
	times        []time.Time
	labels       []uint8
	changepoints []uint8
}

// readSKABPart reads testdata/skab/<name>: a header, then
// "YYYY-MM-DD hh:mm:ss;a;c" lines with a and c "0.0" or "1.0".
func readSKABPart(t testing.TB, name string) skabPart {
	t.Helper()
	path := filepath.Join("testdata", "skab", filepath.FromSlash(name))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p skabPart
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			if got := sc.Text(); got != "datetime;anomaly;changepoint" {
				t.Fatalf("%s:1: header %q", path, got)
			}
			continue
		}
		fields := strings.Split(sc.Text(), ";")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: %d fields, want 3", path, line, len(fields))
		}
		ts, err := time.Parse(time.DateTime, fields[0])
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		a, errA := parseLabel(fields[1])
		c, errC := parseLabel(fields[2])
		if errA != nil || errC != nil {
			t.Fatalf("%s:%d: labels %q %q", path, line, fields[1], fields[2])
		}
		p.times = append(p.times, ts)
		p.labels = append(p.labels, a)
		p.changepoints = append(p.changepoints, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

func parseLabel(s string) (uint8, error) {
	switch s {
	case "0.0":
		return 0, nil
	case "1.0":
		return 1, nil
	}
	return 0, fmt.Errorf("label %q", s)
}

// refRow is one (method, file) row of the reference CSV.
type refRow struct {
	method, file  string
	n             int
	conf          Confusion
	nab           map[string]NABScore // by profile name
	cpFPs, missed int
	trueCPs       int
}

// readReference reads testdata/skab/reference/published_predictions_per_file_dev.csv.
func readReference(t testing.TB) []refRow {
	t.Helper()
	path := filepath.Join("testdata", "skab", "reference", "published_predictions_per_file_dev.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	var rows []refRow
	for line, rec := range recs[1:] {
		num := func(name string) float64 {
			v, err := strconv.ParseFloat(rec[col[name]], 64)
			if err != nil {
				t.Fatalf("%s:%d: %s: %v", path, line+2, name, err)
			}
			return v
		}
		integer := func(name string) int { return int(num(name)) }
		r := refRow{
			method: rec[col["method"]],
			file:   strings.TrimPrefix(rec[col["file"]], "data/"),
			n:      integer("n_test"),
			conf: Confusion{TP: integer("TP"), FP: integer("FP"),
				FN: integer("FN"), TN: integer("TN")},
			nab:     map[string]NABScore{},
			cpFPs:   integer("cp_FPs"),
			missed:  integer("cp_missed"),
			trueCPs: integer("true_cps"),
		}
		for _, p := range []string{"Standard", "LowFP", "LowFN"} {
			r.nab[p] = NABScore{S: num("nab_" + p + "_S"), Null: num("nab_" + p + "_null"),
				Perfect: num("nab_" + p + "_perfect"), Windows: r.trueCPs, Missed: r.missed,
				FalseAlarms: r.cpFPs}
		}
		rows = append(rows, r)
	}
	return rows
}

// round2 rounds to 2 decimals, as SKAB prints its figures.
func round2(x float64) float64 { return math.Round(x*100) / 100 }

// TestReferenceTotals checks Confusion's ratios and NABTotal against the
// README table of published results, recomputed from the per-file counts
// and NAB parts of the reference CSV.
func TestReferenceTotals(t *testing.T) {
	var tests = []struct {
		method             string
		f1, far, mar, nabS float64
		unscored           int // test rows per file the method never predicts
	}{
		{"Conv-AE", 0.80, 18.59, 21.45, 21.88, 0},
		{"MSET", 0.77, 47.87, 10.31, 7.75, 0},
		{"T-squared+Q (PCA-based)", 0.74, 38.03, 20.49, 25.00, 0},
		{"LSTM-AE", 0.73, 36.45, 23.35, 17.89, 0},
		{"[baseline] always anomalous", 0.69, 100.00, 0.00, -1.53, 0},
		{"T-squared", 0.66, 28.74, 37.41, 15.72, 0},
		// SKAB's Vanilla LSTM predicts a row from the 5 before it, so its
		// first 5 test rows have no prediction. The reference leaves them
		// out of the counts when they are labelled normal, but counts them
		// as FN when labelled anomalous, as in other/2.csv, whose test part
		// opens inside an anomaly: there the counts cover every row.
		{"Vanilla LSTM", 0.60, 18.31, 50.04, 14.69, 5},
		{"Vanilla AE", 0.46, 4.32, 68.67, 13.05, 0},
		{"Isolation forest", 0.41, 3.19, 73.57, 23.43, 0},
	}
	rows := readReference(t)
	for _, tt := range tests {
		var c Confusion
		var nab []NABScore
		for _, r := range rows {
			if r.method == tt.method {
				if n := r.conf.N(); n != r.n && n != r.n-tt.unscored {
					t.Errorf("%s %s: TP+FP+FN+TN = %d, want n_test %d (- %d)",
						r.method, r.file, r.conf.N(), r.n, tt.unscored)
				}
				c = c.Add(r.conf)
				nab = append(nab, r.nab["Standard"])
			}
		}
		if len(nab) != len(skabFiles) {
			t.Fatalf("%s: %d reference rows, want %d", tt.method, len(nab), len(skabFiles))
		}
		if got := [3]float64{round2(c.F1()), round2(c.FAR()), round2(c.MAR())}; got != [3]float64{tt.f1, tt.far, tt.mar} {
			t.Errorf("%s: F1, FAR, MAR = %v, want %v", tt.method, got, [3]float64{tt.f1, tt.far, tt.mar})
		}
		if got := round2(NABTotal(nab)); got != tt.nabS {
			t.Errorf("%s: NABTotal = %.4f, want %.2f", tt.method, NABTotal(nab), tt.nabS)
		}
	}
}

// TestSKABBaselines reproduces, file by file, the reference rows of the
// two baselines whose predictions are known exactly: flag every test row,
// flag none. It checks the confusion counts and, for each profile, S,
// S_null, S_perfect (to the printed precision) and the changepoint counts.
func TestSKABBaselines(t *testing.T) {
	ref := map[[2]string]refRow{}
	for _, r := range readReference(t) {
		ref[[2]string{r.method, r.file}] = r
	}
	profiles := []Profile{Standard, LowFP, LowFN}
	var baselines = []struct {
		method string
		flag   bool
	}{
		{"[baseline] always anomalous", true},
		{"[baseline] never anomalous", false},
	}
	checked := 0
	for _, file := range skabFiles {
		part := readSKABPart(t, file)
		for _, b := range baselines {
			r, ok := ref[[2]string{b.method, file}]
			if !ok {
				t.Fatalf("no reference row for %s %s", b.method, file)
			}
			pred := make([]bool, len(part.labels))
			for i := range pred {
				pred[i] = b.flag
			}
			c, err := NewConfusion(part.labels, pred)
			if err != nil {
				t.Fatal(err)
			}
			if c != r.conf {
				t.Errorf("%s %s: confusion %+v, want %+v", b.method, file, c, r.conf)
			}
			for _, p := range profiles {
				got, err := NAB(part.times, part.changepoints, pred, SKABWindow, p)
				if err != nil {
					t.Fatalf("%s %s: %v", b.method, file, err)
				}
				want := r.nab[p.Name]
				const tol = 0.5e-6 // the reference prints at most 6 decimals
				if math.Abs(got.S-want.S) > tol || math.Abs(got.Null-want.Null) > tol ||
					math.Abs(got.Perfect-want.Perfect) > tol ||
					got.Windows != want.Windows || got.Missed != want.Missed ||
					got.FalseAlarms != want.FalseAlarms {
					t.Errorf("%s %s %s: NAB = %+v, want %+v", b.method, file, p.Name, got, want)
					continue
				}
				if !b.flag && got.S != got.Null {
					t.Errorf("%s %s %s: S = %v, want S_null %v", b.method, file, p.Name, got.S, got.Null)
					continue
				}
				checked++
			}
		}
	}
	if want := len(skabFiles) * len(profiles) * len(baselines); checked != want {
		t.Errorf("%d of %d baseline checks match", checked, want)
	}
}

// TestSKABWindowsInTime checks that the dev files exercise what makes
// NAB's windows differ from sample counts: uneven steps and changepoints
// closer than a window, so that windows are cut.
func TestSKABWindowsInTime(t *testing.T) {
	uneven, cut := false, false
	for _, file := range skabFiles {
		p := readSKABPart(t, file)
		var last time.Time
		for i, c := range p.changepoints {
			if i > 0 && p.times[i].Sub(p.times[i-1]) != time.Second {
				uneven = true
			}
			if c == 1 {
				if !last.IsZero() && p.times[i].Sub(last) < SKABWindow {
					cut = true
				}
				last = p.times[i]
			}
		}
	}
	if !uneven || !cut {
		t.Errorf("dev files: uneven steps %v, overlapping windows %v; want both", uneven, cut)
	}
}
