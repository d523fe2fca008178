package eval

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vigil-edge/vigil/sensors/csvline"
)

// NumentaLabels are the windows of NAB's labels/combined_windows.json,
// by the data file's path relative to NAB's data directory
// ("realKnownCause/machine_temperature_system_failure.csv"), with '/'
// separators.
type NumentaLabels map[string][]NumentaWindow

// ParseNumentaLabels decodes a combined_windows.json: a JSON object
// mapping each data file's relative path to a list of [start, end]
// windows, each bound a time string such as "2013-12-10 06:25:00.000000"
// (the times csvline.ParseTime reads, as the data's own times are read).
// The windows of a file must be in time order and not overlap. Errors name
// the file's key, the window (from 1) and the offending bound.
func ParseNumentaLabels(b []byte) (NumentaLabels, error) {
	var raw map[string]*[][]string
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("eval: NAB labels: want a JSON object mapping each data file's relative path to a list of [start, end] time pairs: %w", err)
	}
	if raw == nil {
		return nil, fmt.Errorf("eval: NAB labels: got null, want a JSON object mapping each data file's relative path to a list of [start, end] time pairs")
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first error is the same from run to run
	labels := make(NumentaLabels, len(raw))
	for _, k := range keys {
		ws := raw[k]
		if ws == nil {
			return nil, fmt.Errorf("eval: NAB labels: %q: got null, want a list of [start, end] time pairs ([] for none)", k)
		}
		windows := make([]NumentaWindow, 0, len(*ws))
		for i, w := range *ws {
			if len(w) != 2 {
				return nil, fmt.Errorf("eval: NAB labels: %q: window %d has %d times, want [start, end]", k, i+1, len(w))
			}
			var bounds [2]time.Time
			for j, name := range []string{"start", "end"} {
				t, err := csvline.ParseTime([]byte(w[j]))
				if err != nil {
					return nil, fmt.Errorf("eval: NAB labels: %q: window %d: %s %q: want a time YYYY-MM-DD hh:mm:ss[.ffffff] (or RFC 3339)", k, i+1, name, w[j])
				}
				bounds[j] = t
			}
			windows = append(windows, NumentaWindow{Start: bounds[0], End: bounds[1]})
		}
		if err := checkWindows(windows); err != nil {
			return nil, fmt.Errorf("eval: NAB labels: %q: %w", k, err)
		}
		labels[cleanKey(k)] = windows
	}
	return labels, nil
}

// cleanKey is a label key with '/' separators and no "./" or doubled
// slashes.
func cleanKey(k string) string {
	return strings.TrimPrefix(path.Clean(strings.ReplaceAll(k, `\`, "/")), "/")
}

// Find returns the windows of the data file at file (a path in the
// local file system's form): those of the longest key that file ends
// with, whole path components matched ("x.csv" matches "data/x.csv",
// not "data/ax.csv"). ok is false when no key matches.
func (l NumentaLabels) Find(file string) (key string, windows []NumentaWindow, ok bool) {
	p := cleanKey(file)
	for k, w := range l {
		if (p == k || strings.HasSuffix(p, "/"+k)) && len(k) > len(key) {
			key, windows, ok = k, w, true
		}
	}
	return key, windows, ok
}
