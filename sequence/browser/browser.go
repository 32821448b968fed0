// Package browser draws Mermaid diagrams with a local headless Chromium: it
// checks that pages written by package htmlpage render, takes screenshots of
// them, and makes SVG and PNG files.
//
// Nothing here needs Node or a network: the Mermaid library comes embedded in
// the pages of package htmlpage, and Chromium is started with background
// networking off and, unless Browser.Proxy says otherwise, with every host
// name unresolvable.
//
// Every Chromium run is bounded by its context (DefaultTimeout when the
// context has none) and is killed, with all its child processes, when the
// context ends. Each run gets a fresh profile and HOME in a temporary folder
// that is removed afterwards.
package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// EnvChromium names the environment variable that, when set, gives the
// Chromium (or Chrome) executable to use.
const EnvChromium = "AUTHFLOW_CHROMIUM"

// DefaultTimeout bounds a Chromium run whose context has no deadline. Mermaid
// took 1.5 to 3.5 minutes to draw a diagram of 10 000 messages on a busy
// 2-core machine.
const DefaultTimeout = 10 * time.Minute

// ErrNotFound is returned, wrapped, by Find when no Chromium is installed.
var ErrNotFound = errors.New("svg/png output needs Chromium: install it with 'apt-get install chromium' (or set " + EnvChromium + " to a Chromium or Chrome executable)")

// InternalHostSuffix ends the host names to which Chromium's own background
// services (component updates, Google account sign-in) are pointed. They
// never resolve, so those requests go nowhere; a test proxy that sees them
// can tell them from requests made by a page.
const InternalHostSuffix = ".authflow-internal.invalid"

// candidates are the executable names tried, in order, on PATH.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// Browser is a local Chromium installation. Its methods may be called from
// several goroutines: each call runs its own Chromium process.
type Browser struct {
	// Path is the Chromium executable.
	Path string
	// Proxy, if set, is a proxy URL such as "http://127.0.0.1:8080" through
	// which Chromium sends every request, loopback included. Tests use it to
	// prove that a page makes no request. When empty, Chromium cannot
	// resolve any host name, so a page cannot reach a network by name.
	Proxy string
}

// Find returns the Chromium named by $AUTHFLOW_CHROMIUM or, if that is not
// set, the first of chromium, chromium-browser, google-chrome,
// google-chrome-stable and chrome found on PATH or in /usr/bin. The error
// wraps ErrNotFound and says what to install.
func Find() (*Browser, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", EnvChromium, p, err)
		}
		return &Browser{Path: path}, nil
	}
	for _, name := range candidates {
		if path, err := exec.LookPath(name); err == nil {
			return &Browser{Path: path}, nil
		}
		path := filepath.Join("/usr/bin", name)
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return &Browser{Path: path}, nil
		}
	}
	return nil, ErrNotFound
}

// Version returns Chromium's version line, such as "Chromium 156.0.8078.79
// built on Debian GNU/Linux 12 (bookworm)".
func (b *Browser) Version(ctx context.Context) (string, error) {
	out, err := b.exec(ctx, []string{"--version"})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// EnvNoSandbox names the environment variable that, set to 1, runs
// Chromium without its sandbox even when not root (for hosts without
// unprivileged user namespaces, where Chromium finds no usable sandbox).
const EnvNoSandbox = "AUTHFLOW_CHROMIUM_NO_SANDBOX"

// sandboxFlags returns the sandbox flags for a run by euid: none (the
// sandbox on) for a normal user; --no-sandbox as root, where Chromium
// refuses to start its sandbox ("Running as root without --no-sandbox is
// not supported": the zygote's setuid/namespace sandbox is built to drop
// from an unprivileged user, and root could leave it), and when
// $AUTHFLOW_CHROMIUM_NO_SANDBOX is 1. Without the sandbox the renderer's
// only protections are authflow's own: the page is authflow's, the
// diagram text is escaped, scripts other than the bundled Mermaid never
// run, and every network request is refused (--host-resolver-rules, or
// the test proxy).
func sandboxFlags(euid int, noSandbox string) []string {
	if euid == 0 || noSandbox == "1" {
		return []string{"--no-sandbox"}
	}
	return nil
}

// commonFlags are given to every headless run.
var commonFlags = []string{
	"--headless",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--no-default-browser-check",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
	"--disable-default-apps",
	"--disable-extensions",
	"--disable-domain-reliability",
	"--disable-breakpad",
	"--disable-crash-reporter",
	"--disable-client-side-phishing-detection",
	"--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,CertificateTransparencyComponentUpdater,DialMediaRouteProvider,NetworkTimeServiceQuerying",
	// Chromium still asks for a component update and lists Google accounts
	// at start, whatever the flags above say; send those requests to names
	// that never resolve and that a proxy can tell apart.
	"--component-updater=url-source=http://updater" + InternalHostSuffix + "/service/update2/json",
	"--gaia-url=http://gaia" + InternalHostSuffix + "/",
	"--google-apis-url=http://apis" + InternalHostSuffix + "/",
	"--lso-url=http://lso" + InternalHostSuffix + "/",
	"--no-pings",
	"--metrics-recording-only",
	"--password-store=basic",
	"--mute-audio",
	"--hide-scrollbars",
	"--force-color-profile=srgb",
	"--font-render-hinting=none",
}

// headless runs Chromium on url with the common flags plus extra, in a fresh
// profile, and returns its standard output. The virtual time budget makes
// Chromium wait until the page's scripts have finished before it dumps or
// captures anything.
func (b *Browser) headless(ctx context.Context, url string, extra ...string) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	args := append([]string{}, commonFlags...)
	args = append(args, sandboxFlags(os.Geteuid(), os.Getenv(EnvNoSandbox))...)
	args = append(args, "--virtual-time-budget="+strconv.Itoa(virtualTimeBudget))
	if b.Proxy != "" {
		// "<-loopback>" removes the implicit bypass of localhost, so that
		// every request whatsoever reaches the proxy.
		args = append(args, "--proxy-server="+b.Proxy, "--proxy-bypass-list=<-loopback>")
	} else {
		args = append(args, "--host-resolver-rules=MAP * ~NOTFOUND")
	}
	args = append(args, extra...)
	args = append(args, url)
	return b.exec(ctx, args)
}

// virtualTimeBudget is in milliseconds of the page's virtual time, which
// only advances while the page is idle: it is the time given to timers, not
// a bound on how long drawing may take (the context bounds that).
const virtualTimeBudget = 30_000

// maxOutput caps Chromium's standard output (a dumped page) that is read.
const maxOutput = 1 << 30

// exec runs Chromium with args in a scratch HOME and profile.
func (b *Browser) exec(ctx context.Context, args []string) ([]byte, error) {
	scratch, err := os.MkdirTemp("", "authflow-chromium-")
	if err != nil {
		return nil, fmt.Errorf("chromium scratch dir: %w", err)
	}
	defer os.RemoveAll(scratch)
	env, err := scratchEnv(scratch)
	if err != nil {
		return nil, err
	}
	args = append([]string{"--user-data-dir=" + filepath.Join(scratch, "profile")}, args...)

	// Output goes to files, not pipes: Chromium's helper processes inherit
	// them and may outlive it, and a pipe would make Wait wait for them.
	stdout, err := os.Create(filepath.Join(scratch, "stdout"))
	if err != nil {
		return nil, fmt.Errorf("chromium output file: %w", err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(scratch, "stderr"))
	if err != nil {
		return nil, fmt.Errorf("chromium output file: %w", err)
	}
	defer stderr.Close()

	cmd := exec.CommandContext(ctx, b.Path, args...)
	cmd.Env = env
	cmd.Dir = scratch
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	killGroupOnCancel(cmd)
	runErr := cmd.Run()
	// Chromium's helpers (zygote, renderer, crash handler) may outlive it.
	killGroup(cmd)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("chromium: %w (killed)", ctx.Err())
	}
	if runErr != nil {
		sum := stderrSummary(stderr)
		if strings.Contains(sum, "No usable sandbox") {
			return nil, fmt.Errorf("chromium: %w%s (this host gives Chromium no sandbox, e.g. no unprivileged user namespaces: enable them, or set %s=1 to run it without)", runErr, sum, EnvNoSandbox)
		}
		return nil, fmt.Errorf("chromium: %w%s", runErr, sum)
	}
	out, err := readAtMost(stdout, maxOutput)
	if err != nil {
		return nil, fmt.Errorf("chromium output: %w", err)
	}
	return out, nil
}

// readAtMost reads f from its start, failing if it holds more than limit
// bytes.
func readAtMost(f *os.File, limit int64) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// stderrSummary returns the last few meaningful lines of Chromium's standard
// error, leaving out the noise it always prints in a container (D-Bus and
// the Debian wrapper's shell warnings), as ": line; line", or "".
func stderrSummary(f *os.File) string {
	const tail = 64 << 10
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return ""
	}
	data := make([]byte, min(size, tail))
	if _, err := f.ReadAt(data, size-int64(len(data))); err != nil && err != io.EOF {
		return ""
	}
	return summarize(string(data))
}

// scratchEnv returns the environment with HOME and the XDG folders moved into
// scratch, so that Chromium writes nothing outside it.
func scratchEnv(scratch string) ([]string, error) {
	dirs := map[string]string{
		"HOME":            "home",
		"XDG_CONFIG_HOME": "home/.config",
		"XDG_CACHE_HOME":  "home/.cache",
		"XDG_DATA_HOME":   "home/.local/share",
		"XDG_STATE_HOME":  "home/.local/state",
		"XDG_RUNTIME_DIR": "run",
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := dirs[k]; !ok {
			env = append(env, kv)
		}
	}
	for k, rel := range dirs {
		dir := filepath.Join(scratch, rel)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("chromium scratch dir: %w", err)
		}
		env = append(env, k+"="+dir)
	}
	return env, nil
}

// summarize returns the last three lines of stderr that are not noise, as
// ": line; line", or "".
func summarize(stderr string) string {
	var keep []string
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "dbus") || strings.Contains(line, "unexpected operator") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) > 3 {
		keep = keep[len(keep)-3:]
	}
	if len(keep) == 0 {
		return ""
	}
	return ": " + strings.Join(keep, "; ")
}
