package plots

import (
	"fmt"
	"os"

	"gonum.org/v1/plot/vg/vgimg"
)

func vgimgCanvas() *vgimg.Canvas { return vgimg.New(Width, Height) }

func writePNG(c *vgimg.Canvas, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plots: %s: %w", path, err)
	}
	return f.Close()
}
