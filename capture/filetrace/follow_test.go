//go:build linux && amd64

package filetrace

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/authflow/authflow/capture/fsevent"
)

// spawnerChild is a process whose child reads the file at path, like
// glance-api whose workers read the images: with AUTHFLOW_TEST_SPAWN_WHEN
// "before" the child is started at once and reads after a line on stdin
// (which it inherits); with "after" the spawner waits for the line, then
// starts the child, which reads at once.
func spawnerChild(path string) int {
	env := []string{}
	for _, kv := range os.Environ() {
		if len(kv) < 18 || kv[:18] != "AUTHFLOW_TEST_SPAW" {
			env = append(env, kv)
		}
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(env, "AUTHFLOW_TEST_READER="+path, "AUTHFLOW_TEST_READER_PASSES=1")
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if os.Getenv("AUTHFLOW_TEST_SPAWN_WHEN") == "before" {
		child.Env = append(child.Env, "AUTHFLOW_TEST_READER_WAIT=1")
		child.Stdin = os.Stdin
	} else if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := child.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestFollowsChildren traces a process by pid while its child reads a
// file: a child that existed when tracing started, and one created after.
func TestFollowsChildren(t *testing.T) {
	requireTracing(t)
	for _, when := range []string{"before", "after"} {
		t.Run("child started "+when, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "image")
			if err := os.WriteFile(name, bytes.Repeat([]byte{1}, fileSize), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "AUTHFLOW_TEST_SPAWN="+name, "AUTHFLOW_TEST_SPAWN_WHEN="+when)
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
			spawner := cmd.Process.Pid
			if when == "before" {
				waitChild(t, spawner)
			}
			tr, stop := collect(t, Options{PID: spawner, PathPrefix: dir + "/"})
			if when == "before" && len(tr.followed) != 2 {
				t.Errorf("followed %v at start, want the spawner and its child", tr.followed)
			}
			fmt.Fprintln(stdin, "go")
			if err := cmd.Wait(); err != nil {
				t.Fatalf("spawner: %v: %s", err, out.String())
			}
			reads := 0
			for _, ev := range stop() {
				if ev.Op == fsevent.Read && ev.Path == name {
					reads++
					if ev.PID == spawner {
						t.Errorf("read by the spawner itself: %v", ev)
					}
				}
			}
			if reads != 17 {
				t.Errorf("got %d reads by the child, want 17", reads)
			}
		})
	}
}

// waitChild waits until the process pid has a child.
func waitChild(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if len(Descendants(pid)) > 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never started its child", pid)
}
