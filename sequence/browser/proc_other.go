//go:build !unix

package browser

import "os/exec"

// killGroupOnCancel leaves cmd as it is: exec.CommandContext kills the
// process itself on cancellation.
func killGroupOnCancel(*exec.Cmd) {}

// killGroup does nothing where process groups are not available.
func killGroup(*exec.Cmd) {}
