package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/vigil-edge/vigil/infer/train"
)

// epochReporter shows training progress: a progress bar with the losses
// and the time left on a terminal, one plain line per epoch otherwise
// (logs, CI, pipes).
func epochReporter(w io.Writer, epochs int) (report func(train.Epoch), done func()) {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar := progressbar.NewOptions(epochs,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("training"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionFullWidth(),
		)
		var best float64
		return func(e train.Epoch) {
				if e.Best || e.N == 1 {
					best = e.Val
				}
				bar.Describe(fmt.Sprintf("train %.5f  val %.5f  best %.5f", e.Train, e.Val, best))
				bar.Set(e.N)
			}, func() {
				bar.Finish()
				fmt.Fprintln(w)
			}
	}
	return func(e train.Epoch) {
		mark := ""
		if e.Best {
			mark = " *"
		}
		fmt.Fprintf(w, "epoch %3d/%d  train %.5f  val %.5f%s\n", e.N, e.Of, e.Train, e.Val, mark)
	}, func() {}
}
