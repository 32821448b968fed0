package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/authflow/authflow"
	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/render"
)

// maxDetail is the highest --detail level.
const maxDetail = 2

// detailValue matches what may follow a bare --detail as its level.
var detailValue = regexp.MustCompile(`^-?[0-9]+$`)

// normalizeArgs makes "--detail N" mean "--detail=N". --detail alone means
// level 1, so its level is optional and pflag would take a following N as
// a capture file; a bare number is a level, never a capture (name a
// capture file called "2" as ./2). Shell completion of "--detail " gets
// the levels too.
func normalizeArgs(args []string) []string {
	out := make([]string, 0, len(args))
	completing := len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "--detail" && completing && i+2 == len(args) && args[i+1] == "" {
			return append(out, "--detail=")
		}
		if a == "--detail" && i+1 < len(args) && detailValue.MatchString(args[i+1]) {
			out = append(out, "--detail="+args[i+1])
			i++
			continue
		}
		out = append(out, a)
	}
	return out
}

// envMemcacheSecret names the environment variable that may hold the
// memcache secret key (a flag's value is visible to every user in ps).
const envMemcacheSecret = "AUTHFLOW_MEMCACHE_SECRET"

// memcacheSecretValue resolves the memcache secret key: --memcache-secret,
// else the first line of --memcache-secret-file, else $AUTHFLOW_MEMCACHE_SECRET.
func (o *inputOptions) memcacheSecretValue() (string, error) {
	if o.memcacheSecretFile != "" {
		if o.memcacheSecret != "" {
			return "", usageError{errors.New("--memcache-secret and --memcache-secret-file: give one of them")}
		}
		fi, err := os.Stat(o.memcacheSecretFile)
		if err != nil {
			return "", usageError{fmt.Errorf("--memcache-secret-file: %w", err)}
		}
		if !fi.Mode().IsRegular() || fi.Size() > 64<<10 {
			return "", usageError{fmt.Errorf("--memcache-secret-file %s: not a regular file of at most 64 KiB", o.memcacheSecretFile)}
		}
		b, err := os.ReadFile(o.memcacheSecretFile)
		if err != nil {
			return "", usageError{fmt.Errorf("--memcache-secret-file: %w", err)}
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimRight(line, "\r")
		if line == "" {
			return "", usageError{fmt.Errorf("--memcache-secret-file %s: the first line is empty", o.memcacheSecretFile)}
		}
		return line, nil
	}
	if o.memcacheSecret != "" {
		return o.memcacheSecret, nil
	}
	return os.Getenv(envMemcacheSecret), nil
}

// validate checks the option values that the flag types do not, and
// resolves the memcache secret key.
func (o *inputOptions) validate() error {
	secret, err := o.memcacheSecretValue()
	if err != nil {
		return err
	}
	o.memcacheSecret = secret
	if o.detail < 0 || o.detail > maxDetail {
		return usageError{fmt.Errorf("--detail %d: want 0, 1 or 2 (0 summarises, 1 every query and cache lookup, 2 also every file read)", o.detail)}
	}
	if !knownLang(o.lang) {
		return usageError{fmt.Errorf("--lang %q: want one of %s", o.lang, strings.Join(sequence.Languages, ", "))}
	}
	return nil
}

// completeValues is a completion function offering a fixed list.
func completeValues(values ...string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// registerCompletions offers the values of the flags that take a fixed set,
// for those of them cmd has.
func registerCompletions(cmd *cobra.Command) {
	for flag, values := range map[string][]string{
		"example":    authflow.Examples(),
		"format":     render.Formats,
		"lang":       sequence.Languages,
		"detail":     {"0", "1", "2"},
		"clock-sync": {"auto", "off"},
	} {
		if cmd.Flags().Lookup(flag) != nil {
			cmd.RegisterFlagCompletionFunc(flag, completeValues(values...))
		}
	}
}
