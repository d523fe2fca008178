package dataset_test

import (
	"fmt"

	"github.com/vigil-edge/vigil/tools/dataset"
)

// Read a labelled recording; channels come from its header.
func ExampleReadFiles() {
	tab, err := dataset.ReadFiles([]string{"testdata/labelled.csv"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tab.Channels, len(tab.Rows), "rows,", len(tab.Normal()), "normal")
	// Output: [a b] 3 rows, 2 normal
}
