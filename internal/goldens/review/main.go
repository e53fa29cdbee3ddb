// Command review lists the golden images of a folder that no person has
// looked at yet and, once they have been looked at, records them as
// accepted:
//
//	go run ./internal/goldens/review display/testdata/golden
//	go run ./internal/goldens/review --accept --by "Anna K." display/testdata/golden
//
// Look at each listed PNG (any image viewer) before accepting it.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/numerek/numerek/internal/goldens"
)

func main() {
	accept := flag.Bool("accept", false, "record the listed images as looked at")
	by := flag.String("by", "", "who looked at them (with --accept)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: review [--accept --by NAME] GOLDEN_DIR...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, dir := range flag.Args() {
		names, err := goldens.Unreviewed(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "review:", err)
			os.Exit(1)
		}
		for _, n := range names {
			fmt.Println(filepath.Join(dir, n))
		}
		if *accept && len(names) > 0 {
			if err := goldens.Accept(dir, *by, names); err != nil {
				fmt.Fprintln(os.Stderr, "review:", err)
				os.Exit(1)
			}
			fmt.Fprintf(os.Stderr, "review: %d images in %s recorded as looked at by %s\n", len(names), dir, *by)
		}
	}
}
