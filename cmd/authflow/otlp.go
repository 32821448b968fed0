package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/authflow/authflow/sequence"
	"github.com/authflow/authflow/sequence/otlp"
	"github.com/authflow/authflow/sequence/otlpexport"
)

// otlpOptions are the flags that send the flow's traces to an
// OpenTelemetry backend; analyze and capture share them.
type otlpOptions struct {
	endpoint           string
	headers            []string
	caCert             string
	clientCert         string
	clientKey          string
	insecureSkipVerify bool
	retry              time.Duration
	queue              int
}

func (o *otlpOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.endpoint, "otlp-endpoint", "", "send one OpenTelemetry trace per request to `URL`: grpc://HOST:4317 (gRPC in clear), grpcs://HOST:4317 (gRPC over TLS), http(s)://HOST:4318 (OTLP/HTTP, path /v1/traces unless given); OTEL_EXPORTER_OTLP_* variables (headers, certificates, compression, timeout) are honoured")
	f.StringArrayVar(&o.headers, "otlp-header", nil, "send the header `KEY=VALUE` with every export (repeatable; e.g. Authorization=Bearer …)")
	f.StringVar(&o.caCert, "otlp-ca", "", "trust the CA certificates in the PEM `FILE` for the OTLP endpoint")
	f.StringVar(&o.clientCert, "otlp-cert", "", "client certificate PEM `FILE` for the OTLP endpoint (with --otlp-key)")
	f.StringVar(&o.clientKey, "otlp-key", "", "client key PEM `FILE` for the OTLP endpoint (with --otlp-cert)")
	f.BoolVar(&o.insecureSkipVerify, "otlp-insecure-skip-verify", false, "accept any certificate from the OTLP endpoint")
	f.DurationVar(&o.retry, "otlp-retry", time.Minute, "retry a batch of traces the OTLP endpoint did not take, with backoff, for `DURATION`; then count it as not sent")
	f.IntVar(&o.queue, "otlp-queue", 2048, "traces waiting to be sent at most; beyond it new traces are dropped, and counted")
}

// config checks the flags and maps them to the exporter's configuration.
func (o *otlpOptions) config() (otlpexport.Config, error) {
	cfg := otlpexport.Config{
		Endpoint:           o.endpoint,
		CACert:             o.caCert,
		ClientCert:         o.clientCert,
		ClientKey:          o.clientKey,
		InsecureSkipVerify: o.insecureSkipVerify,
		RetryFor:           o.retry,
		QueueSize:          o.queue,
	}
	if o.queue <= 0 {
		return cfg, usageError{fmt.Errorf("--otlp-queue %d: want at least 1", o.queue)}
	}
	for _, h := range o.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return cfg, usageError{fmt.Errorf("--otlp-header %q: want KEY=VALUE", h)}
		}
		if cfg.Headers == nil {
			cfg.Headers = map[string]string{}
		}
		cfg.Headers[strings.TrimSpace(k)] = v
	}
	return cfg, nil
}

// traceSender sends request trees to the OTLP endpoint as they come.
type traceSender struct {
	endpoint string
	sender   *otlpexport.Sender
	retry    time.Duration
	// ids are the ids given so far: trees come one at a time.
	ids otlp.IDs
}

// startSender connects the exporter (a connection is made lazily: an
// endpoint that is down shows in the counts, not here). live reports each
// failed export on stderr as it happens.
func (o *otlpOptions) startSender(stderr io.Writer, live bool) (*traceSender, error) {
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	exp, err := otlpexport.NewExporter(context.Background(), cfg)
	if err != nil {
		return nil, usageError{err}
	}
	var onFail func(int, error)
	if live {
		onFail = func(n int, err error) {
			fmt.Fprintf(stderr, "authflow: --otlp-endpoint %s: %d traces could not be sent: %s\n", o.endpoint, n, strings.Join(strings.Fields(err.Error()), " "))
		}
	}
	return &traceSender{endpoint: o.endpoint, sender: otlpexport.NewSender(exp, cfg, onFail), retry: o.retry}, nil
}

// flow sends every request tree of a whole flow, with its findings.
func (s *traceSender) flow(f *sequence.Flow) {
	s.sender.Send(otlp.FlowTraces(f, versionString()))
}

// request sends one request tree as a trace.
func (s *traceSender) request(r *sequence.Request) {
	s.sender.Send(otlp.Traces([]*sequence.Request{r}, otlp.Options{Version: versionString(), IDs: &s.ids}))
}

// finish sends what is queued and says on stderr what was sent and what
// was not; traces not sent make the partial-result exit code.
func (s *traceSender) finish(stderr io.Writer, quiet bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.retry+10*time.Second)
	defer cancel()
	st := s.sender.Close(ctx)
	if st.NotSent() == 0 {
		if !quiet {
			fmt.Fprintln(stderr, "authflow:", st.Summary(s.endpoint))
		}
		return nil
	}
	return &exitCodeError{code: exitPartial, err: fmt.Errorf("%s", st.Summary(s.endpoint))}
}
