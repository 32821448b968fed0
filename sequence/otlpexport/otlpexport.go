// Package otlpexport sends the traces package otlp makes to an
// OpenTelemetry backend (a collector, Jaeger, Grafana Tempo, …) with the
// official OTLP exporters, over gRPC or HTTP. The exporters honour the
// OTEL_EXPORTER_OTLP_* environment variables (headers, certificates,
// compression, timeout) where no option says otherwise.
//
// A Sender queues traces (bounded), sends them in batches from its own
// goroutine, and counts what it could not send: traces dropped because the
// queue was full and traces the backend did not take after the exporter's
// retries with backoff.
package otlpexport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"
)

// Config says where and how traces are sent.
type Config struct {
	// Endpoint is grpc://HOST:PORT (OTLP/gRPC in clear), grpcs://HOST:PORT
	// (OTLP/gRPC over TLS), or http(s)://HOST:PORT[/PATH] (OTLP/HTTP;
	// the path defaults to /v1/traces).
	Endpoint string
	// Headers are sent with every export (e.g. authorization), besides
	// OTEL_EXPORTER_OTLP_HEADERS.
	Headers map[string]string
	// CACert, ClientCert and ClientKey are PEM files for TLS; unset, the
	// exporters take OTEL_EXPORTER_OTLP_CERTIFICATE and the like.
	CACert, ClientCert, ClientKey string
	// InsecureSkipVerify accepts any server certificate.
	InsecureSkipVerify bool
	// RetryFor is how long one batch is retried, with backoff, before it
	// counts as not sent (0: one minute).
	RetryFor time.Duration
	// QueueSize bounds the traces waiting to be sent (0: 2048); beyond it
	// new traces are dropped, and counted.
	QueueSize int
	// BatchSize is how many traces go in one export at most (0: 128).
	BatchSize int
	// BatchDelay is how long a partial batch waits for more (0: 1s).
	BatchDelay time.Duration
}

// NewExporter makes the OTLP exporter the endpoint's scheme names.
func NewExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--otlp-endpoint %q: want grpc://HOST:PORT, grpcs://HOST:PORT, http://HOST:PORT or https://HOST:PORT", cfg.Endpoint)
	}
	retryFor := cfg.RetryFor
	if retryFor <= 0 {
		retryFor = time.Minute
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "grpc", "grpcs":
		opts := []otlptracegrpc.Option{
			otlptracegrpc.WithEndpoint(u.Host),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: 500 * time.Millisecond, MaxInterval: 5 * time.Second, MaxElapsedTime: retryFor}),
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracegrpc.WithHeaders(cfg.Headers))
		}
		switch {
		case u.Scheme == "grpc":
			opts = append(opts, otlptracegrpc.WithInsecure())
		case tlsCfg != nil:
			opts = append(opts, otlptracegrpc.WithTLSCredentials(credentials.NewTLS(tlsCfg)))
		}
		return otlptracegrpc.New(ctx, opts...)
	case "http", "https":
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces"
		}
		opts := []otlptracehttp.Option{
			otlptracehttp.WithEndpointURL(u.String()),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 500 * time.Millisecond, MaxInterval: 5 * time.Second, MaxElapsedTime: retryFor}),
		}
		if len(cfg.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
		}
		if tlsCfg != nil && u.Scheme == "https" {
			opts = append(opts, otlptracehttp.WithTLSClientConfig(tlsCfg))
		}
		return otlptracehttp.New(ctx, opts...)
	}
	return nil, fmt.Errorf("--otlp-endpoint %q: scheme %q: want grpc, grpcs, http or https", cfg.Endpoint, u.Scheme)
}

// tlsConfig is the TLS configuration the options ask for, or nil to leave
// it to the exporter (and its environment variables).
func tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.CACert == "" && cfg.ClientCert == "" && cfg.ClientKey == "" && !cfg.InsecureSkipVerify {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("--otlp-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--otlp-ca %s: no PEM certificate in it", cfg.CACert)
		}
		c.RootCAs = pool
	}
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		return nil, errors.New("--otlp-cert and --otlp-key go together")
	}
	if cfg.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("--otlp-cert/--otlp-key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Spans turns traces into the SDK's read-only spans, which the OTLP
// exporters take; ids, times, attributes, events and status are kept.
func Spans(td ptrace.Traces) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, rs := range td.ResourceSpans().All() {
		res := resource.NewSchemaless(attributes(rs.Resource().Attributes())...)
		for _, ss := range rs.ScopeSpans().All() {
			scope := instrumentation.Scope{Name: ss.Scope().Name(), Version: ss.Scope().Version()}
			for _, s := range ss.Spans().All() {
				stub := tracetest.SpanStub{
					Name: s.Name(),
					SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
						TraceID:    trace.TraceID(s.TraceID()),
						SpanID:     trace.SpanID(s.SpanID()),
						TraceFlags: trace.FlagsSampled,
					}),
					SpanKind:             spanKind(s.Kind()),
					StartTime:            s.StartTimestamp().AsTime(),
					EndTime:              s.EndTimestamp().AsTime(),
					Attributes:           attributes(s.Attributes()),
					Resource:             res,
					InstrumentationScope: scope,
				}
				if !s.ParentSpanID().IsEmpty() {
					stub.Parent = trace.NewSpanContext(trace.SpanContextConfig{
						TraceID:    trace.TraceID(s.TraceID()),
						SpanID:     trace.SpanID(s.ParentSpanID()),
						TraceFlags: trace.FlagsSampled,
					})
				}
				for _, e := range s.Events().All() {
					stub.Events = append(stub.Events, sdktrace.Event{Name: e.Name(), Time: e.Timestamp().AsTime(), Attributes: attributes(e.Attributes())})
				}
				if s.Status().Code() == ptrace.StatusCodeError {
					stub.Status = sdktrace.Status{Code: codes.Error, Description: s.Status().Message()}
				}
				out = append(out, stub.Snapshot())
			}
		}
	}
	return out
}

func spanKind(k ptrace.SpanKind) trace.SpanKind {
	switch k {
	case ptrace.SpanKindServer:
		return trace.SpanKindServer
	case ptrace.SpanKindClient:
		return trace.SpanKindClient
	case ptrace.SpanKindProducer:
		return trace.SpanKindProducer
	case ptrace.SpanKindConsumer:
		return trace.SpanKindConsumer
	}
	return trace.SpanKindInternal
}

// attributes converts the value types package otlp uses: strings, ints,
// doubles, bools and lists of strings.
func attributes(m pcommon.Map) []attribute.KeyValue {
	var out []attribute.KeyValue
	for k, v := range m.All() {
		switch v.Type() {
		case pcommon.ValueTypeStr:
			out = append(out, attribute.String(k, v.Str()))
		case pcommon.ValueTypeInt:
			out = append(out, attribute.Int64(k, v.Int()))
		case pcommon.ValueTypeDouble:
			out = append(out, attribute.Float64(k, v.Double()))
		case pcommon.ValueTypeBool:
			out = append(out, attribute.Bool(k, v.Bool()))
		case pcommon.ValueTypeSlice:
			var ss []string
			for _, e := range v.Slice().All() {
				ss = append(ss, e.AsString())
			}
			out = append(out, attribute.StringSlice(k, ss))
		default:
			out = append(out, attribute.String(k, v.AsString()))
		}
	}
	return out
}

// Stats say what a Sender did.
type Stats struct {
	// Sent traces the backend took.
	Sent int
	// Failed traces the backend did not take, after retrying.
	Failed int
	// Dropped traces never sent because the queue was full.
	Dropped int
	// LastError is the last export error, if any.
	LastError error
}

// NotSent is every trace that did not reach the backend.
func (s Stats) NotSent() int { return s.Failed + s.Dropped }

// Summary says in one line what was sent to endpoint and what was not, and
// why.
func (s Stats) Summary(endpoint string) string {
	line := fmt.Sprintf("--otlp-endpoint %s: %d traces sent", endpoint, s.Sent)
	if s.NotSent() == 0 {
		return line
	}
	line += fmt.Sprintf(", %d could not be sent", s.NotSent())
	var why []string
	if s.Failed > 0 {
		why = append(why, fmt.Sprintf("%d refused or unreachable", s.Failed))
	}
	if s.Dropped > 0 {
		why = append(why, fmt.Sprintf("%d dropped with the queue full (--otlp-queue)", s.Dropped))
	}
	line += " (" + strings.Join(why, ", ") + ")"
	if s.LastError != nil {
		line += ": " + oneLine(s.LastError.Error())
	}
	return line
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// batch is one trace's spans.
type batch struct {
	spans []sdktrace.ReadOnlySpan
}

// Sender sends traces in the background: Send queues, Close flushes.
type Sender struct {
	exp   sdktrace.SpanExporter
	cfg   Config
	queue chan batch
	done  chan struct{}

	mu    sync.Mutex
	stats Stats
	// onFail, if set, is told about every failed export (for a live
	// report), outside the lock.
	onFail func(traces int, err error)
}

// NewSender starts sending to exp. onFail, if not nil, is called from
// the sending goroutine after each export the backend did not take.
func NewSender(exp sdktrace.SpanExporter, cfg Config, onFail func(traces int, err error)) *Sender {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 2048
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 128
	}
	if cfg.BatchDelay <= 0 {
		cfg.BatchDelay = time.Second
	}
	s := &Sender{exp: exp, cfg: cfg, queue: make(chan batch, cfg.QueueSize), done: make(chan struct{}), onFail: onFail}
	go s.run()
	return s
}

// Send queues the traces' spans, one trace at a time; it never blocks: a
// trace that finds the queue full is dropped and counted.
func (s *Sender) Send(td ptrace.Traces) {
	for _, spans := range byTrace(Spans(td)) {
		select {
		case s.queue <- batch{spans: spans}:
		default:
			s.mu.Lock()
			s.stats.Dropped++
			s.mu.Unlock()
		}
	}
}

// byTrace groups spans by trace, in order of first appearance.
func byTrace(spans []sdktrace.ReadOnlySpan) [][]sdktrace.ReadOnlySpan {
	index := map[trace.TraceID]int{}
	var out [][]sdktrace.ReadOnlySpan
	for _, sp := range spans {
		id := sp.SpanContext().TraceID()
		i, ok := index[id]
		if !ok {
			i = len(out)
			index[id] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], sp)
	}
	return out
}

func (s *Sender) run() {
	defer close(s.done)
	var pending []batch
	timer := time.NewTimer(s.cfg.BatchDelay)
	timer.Stop()
	flush := func() {
		if len(pending) == 0 {
			return
		}
		var spans []sdktrace.ReadOnlySpan
		for _, b := range pending {
			spans = append(spans, b.spans...)
		}
		n := len(pending)
		pending = nil
		err := s.exp.ExportSpans(context.Background(), spans)
		s.mu.Lock()
		if err != nil {
			s.stats.Failed += n
			s.stats.LastError = err
		} else {
			s.stats.Sent += n
		}
		s.mu.Unlock()
		if err != nil && s.onFail != nil {
			s.onFail(n, err)
		}
	}
	for {
		select {
		case b, ok := <-s.queue:
			if !ok {
				flush()
				return
			}
			if len(pending) == 0 {
				timer.Reset(s.cfg.BatchDelay)
			}
			pending = append(pending, b)
			if len(pending) >= s.cfg.BatchSize {
				timer.Stop()
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// Close sends what is queued, shuts the exporter down and returns what was
// sent and what was not. Send must not be called after it.
func (s *Sender) Close(ctx context.Context) Stats {
	close(s.queue)
	select {
	case <-s.done:
	case <-ctx.Done():
	}
	s.exp.Shutdown(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	// Whatever is still queued when ctx ends is not sent.
	st.Dropped += len(s.queue)
	return st
}

// Stats returns the counts so far.
func (s *Sender) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}
