// Command nabcheck rescores a detector's published results in a checkout
// of github.com/numenta/NAB with vigil's eval.ScoreNumenta and compares
// every file's score and counts with NAB's own
// (results/<detector>/<detector>_<profile>_scores.csv), and the
// normalised totals with results/final_results.json. It is how the
// scorer was checked against NAB; it needs the checkout, so it is a
// command rather than a test:
//
//	go run ./tools/eval/cmd/nabcheck -nab ~/NAB [-detector numenta]
//
// On NAB commit ea702d7 (58 files), for numenta it matches every count,
// every score to the 12 digits the CSV holds, and the totals 70.10
// (standard), 63.12 (low FP) and 74.32 (low FN) to 1e-9. It exits 1 on
// any difference.
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/vigil-edge/vigil/sensors/csvline"
	"github.com/vigil-edge/vigil/tools/eval"
)

func main() {
	root := flag.String("nab", "", "a checkout of github.com/numenta/NAB")
	det := flag.String("detector", "numenta", "the detector of results/ to rescore")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "nabcheck: -nab DIR (a NAB checkout) is required")
		os.Exit(2)
	}
	diffs, err := check(*root, *det)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nabcheck:", err)
		os.Exit(1)
	}
	if diffs > 0 {
		fmt.Printf("%d differences from NAB\n", diffs)
		os.Exit(1)
	}
	fmt.Println("every file's score and counts, and the totals, match NAB")
}

// check rescores every file under each profile and prints what differs.
func check(root, det string) (int, error) {
	b, err := os.ReadFile(filepath.Join(root, "labels", "combined_windows.json"))
	if err != nil {
		return 0, err
	}
	labels, err := eval.ParseNumentaLabels(b)
	if err != nil {
		return 0, err
	}
	var thresholds map[string]map[string]struct{ Threshold float64 }
	var final map[string]map[string]float64
	if err := readJSON(filepath.Join(root, "config", "thresholds.json"), &thresholds); err != nil {
		return 0, err
	}
	if err := readJSON(filepath.Join(root, "results", "final_results.json"), &final); err != nil {
		return 0, err
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	diffs := 0
	for _, p := range []eval.NumentaProfile{eval.NumentaStandard, eval.NumentaLowFP, eval.NumentaLowFN} {
		thr := thresholds[det][p.Name].Threshold
		recs, err := readCSV(filepath.Join(root, "results", det, det+"_"+p.Name+"_scores.csv"))
		if err != nil {
			return diffs, err
		}
		official := map[string][]string{} // by file: Detector,Profile,File,Threshold,Score,TP,TN,FP,FN,Total_Count
		for _, r := range recs {
			if len(r) >= 9 {
				official[r[2]] = r
			}
		}
		var scores []eval.NumentaScore
		for _, key := range keys {
			got, err := rescore(root, det, key, labels[key], thr, p)
			if err != nil {
				return diffs, fmt.Errorf("%s: %w", key, err)
			}
			scores = append(scores, got)
			o := official[key]
			if o == nil {
				return diffs, fmt.Errorf("%s: not in the %s scores", key, p.Name)
			}
			var want [5]float64
			for i := range want {
				if want[i], err = strconv.ParseFloat(o[4+i], 64); err != nil {
					return diffs, fmt.Errorf("%s: %w", key, err)
				}
			}
			if math.Abs(got.S-want[0]) > 1e-9*math.Max(1, math.Abs(want[0])) ||
				[4]int{got.TP, got.TN, got.FP, got.FN} != [4]int{int(want[1]), int(want[2]), int(want[3]), int(want[4])} {
				fmt.Printf("%s %s: S %v TP %d TN %d FP %d FN %d; NAB: %v\n", p.Name, key, got.S, got.TP, got.TN, got.FP, got.FN, o[4:9])
				diffs++
			}
		}
		got, want := eval.NumentaTotal(scores), final[det][p.Name]
		fmt.Printf("%s: total %.6f, NAB %.6f\n", p.Name, got, want)
		if math.Abs(got-want) > 1e-9 {
			diffs++
		}
	}
	return diffs, nil
}

// rescore scores the detector's published results for one file.
func rescore(root, det, key string, windows []eval.NumentaWindow, thr float64, p eval.NumentaProfile) (eval.NumentaScore, error) {
	var times []time.Time
	var detections []bool
	dir, name := filepath.Split(filepath.FromSlash(key))
	recs, err := readCSV(filepath.Join(root, "results", det, dir, det+"_"+name))
	if err != nil {
		return eval.NumentaScore{}, err
	}
	for i, r := range recs {
		if len(r) < 3 {
			return eval.NumentaScore{}, fmt.Errorf("row %d: %d columns, want timestamp, value, anomaly_score", i+2, len(r))
		}
		tm, err := csvline.ParseTime([]byte(r[0]))
		if err != nil {
			return eval.NumentaScore{}, err
		}
		s, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			return eval.NumentaScore{}, err
		}
		times, detections = append(times, tm), append(detections, s >= thr)
	}
	return eval.ScoreNumenta(times, windows, detections, p)
}

// readCSV returns the records of a CSV file after its header.
func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return recs[1:], nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
