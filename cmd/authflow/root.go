package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "authflow",
		Short: "Explain OpenStack authentication flows from network captures",
		Long: `authflow reads captures of an OpenStack cloud's traffic (pcap, pcapng, live
interfaces) and explains them: who authenticated, which token went where, who
validated it, what was cached in memcached, what each service asked its MySQL
database, and which image file was read — as a Mermaid sequence diagram, JSON
or a text timeline. Tokens are shown as short fingerprints, passwords never.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(fmt.Sprintf("authflow %s\n", versionString()))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newAnalyzeCmd(), newCaptureCmd(), newFilterCmd())
	return root
}
