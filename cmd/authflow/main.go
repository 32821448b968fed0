// Command authflow turns captures of OpenStack traffic into an explanation
// a person can read: who authenticated, which token went where, who
// validated it, what was cached and queried, drawn as a Mermaid sequence
// diagram.
package main

import (
	"errors"
	"fmt"
	"os"
)

// Exit codes.
const (
	exitOK      = 0 // everything was analysed
	exitFailure = 1 // nothing could be analysed, or the output failed
	exitUsage   = 2 // bad command line
	exitPartial = 3 // output written, but some input was bad
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(normalizeArgs(args))
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitCodeError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "authflow:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "authflow:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// exitCodeError carries an exit code through cobra.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitCodeError) Unwrap() error { return e.err }

// usageError marks command-line mistakes.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
