//go:build linux && amd64

package filetrace

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readerChild is the test binary run as a reader process (see TestMain):
// it reads path in 64 KiB chunks, passes times, after a line on stdin if
// AUTHFLOW_TEST_READER_WAIT is set, and prints each pass's duration in ns.
// With AUTHFLOW_TEST_READER_OPEN_FIRST it opens the file before waiting.
func readerChild(path string) int {
	passes, _ := strconv.Atoi(os.Getenv("AUTHFLOW_TEST_READER_PASSES"))
	if passes <= 0 {
		passes = 1
	}
	var f *os.File
	var err error
	if os.Getenv("AUTHFLOW_TEST_READER_OPEN_FIRST") != "" {
		if f, err = os.Open(path); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if os.Getenv("AUTHFLOW_TEST_READER_WAIT") != "" {
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	buf := make([]byte, 64<<10)
	for i := 0; i < passes; i++ {
		cpu0 := cpuTime()
		start := time.Now()
		if f == nil {
			if f, err = os.Open(path); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		for {
			_, err := f.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		f.Close()
		f = nil
		fmt.Println(time.Since(start).Nanoseconds(), (cpuTime() - cpu0).Nanoseconds())
	}
	return 0
}

// startReader starts a reader child that opens name, then waits for a line
// on stdin before reading it passes times.
func startReader(t *testing.T, name string, passes int) (*exec.Cmd, io.WriteCloser, *bytes.Buffer) {
	return startReaderBin(t, os.Args[0], name, passes, true)
}

// startReaderBin starts the reader child from the binary bin; with openFirst
// it opens the file before waiting for its line on stdin.
func startReaderBin(t *testing.T, bin, name string, passes int, openFirst bool) (*exec.Cmd, io.WriteCloser, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"AUTHFLOW_TEST_READER="+name,
		"AUTHFLOW_TEST_READER_WAIT=1",
		"AUTHFLOW_TEST_READER_PASSES="+strconv.Itoa(passes))
	if openFirst {
		cmd.Env = append(cmd.Env, "AUTHFLOW_TEST_READER_OPEN_FIRST=1")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd, stdin, &out
}

// runReader runs a reader child to completion and returns its pass times.
func runReader(t *testing.T, name string, passes int) ([]passTime, error) {
	return runReaderBin(t, os.Args[0], name, passes)
}

// runReaderBin is runReader with the reader binary bin.
func runReaderBin(t *testing.T, bin, name string, passes int) ([]passTime, error) {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "AUTHFLOW_TEST_READER="+name, "AUTHFLOW_TEST_READER_PASSES="+strconv.Itoa(passes))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("reader: %v: %s", err, out)
	}
	return parseTimes(string(out))
}

// cpuTime returns the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// passTime is one pass of a reader child.
type passTime struct {
	wall, cpu time.Duration
}

func parseTimes(out string) ([]passTime, error) {
	var ps []passTime
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("reader output %q", out)
		}
		w, err1 := strconv.ParseInt(f[0], 10, 64)
		c, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("reader output %q", out)
		}
		ps = append(ps, passTime{time.Duration(w), time.Duration(c)})
	}
	return ps, nil
}
