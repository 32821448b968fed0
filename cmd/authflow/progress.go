package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// progressSource is what a progress line needs to know.
type progressSource interface {
	Progress() (read, total int64)
}

// startProgress shows, on a terminal, how much of the input has been read
// and how fast, until the returned function is called. Off a terminal (or
// with quiet) it shows nothing.
func startProgress(w io.Writer, src progressSource, quiet bool) func() {
	f, ok := w.(*os.File)
	if quiet || !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprint(f, "\r\033[K")
				}
				return
			case <-tick.C:
				read, total := src.Progress()
				if time.Since(start) < time.Second || total == 0 {
					continue
				}
				rate := float64(read) / time.Since(start).Seconds()
				const width = 30
				filled := int(width * read / max(total, 1))
				bar := make([]byte, width)
				for i := range bar {
					bar[i] = ' '
					if i < filled {
						bar[i] = '='
					}
				}
				fmt.Fprintf(f, "\r[%s] %5.1f%% %s of %s, %s/s\033[K", bar, 100*float64(read)/float64(total), mib(read), mib(total), mib(int64(rate)))
				shown = true
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// colorWanted reports whether w is a terminal that should get colours:
// not when NO_COLOR is set or TERM is dumb (fatih/color's rules).
func colorWanted(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
