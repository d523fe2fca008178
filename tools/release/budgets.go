package release

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The agent's budgets (decimal units: MB is 10^6 bytes).
const (
	SizeBudget       = 6_000_000  // stripped agent binary, each ARM target
	RSSBudget        = 10_000_000 // peak RSS at 100 Hz with the demo model
	FirstScoreBudget = 1.0        // seconds from process start to the first score
)

// Budget is one measured figure against its limit.
type Budget struct {
	What     string
	Measured string
	Limit    string
	OK       bool
	Note     string
}

// Met reports whether every budget is met.
func Met(bs []Budget) bool {
	for _, b := range bs {
		if !b.OK {
			return false
		}
	}
	return true
}

// PrintBudgets writes the budgets as a table.
func PrintBudgets(w io.Writer, bs []Budget) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "budget\tmeasured\tlimit\tresult\t")
	for _, b := range bs {
		r := "ok"
		if !b.OK {
			r = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", b.What, b.Measured, b.Limit, r, b.Note)
	}
	return tw.Flush()
}

// MB formats bytes in decimal megabytes.
func MB(n int64) string { return fmt.Sprintf("%.2f MB", float64(n)/1e6) }

// OneLine shortens output to its first line.
func OneLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return first
}
