//go:build !(linux && amd64)

package filetrace

import (
	"context"

	"github.com/authflow/authflow/capture/fsevent"
)

// Tracer is a running file tracer (not available on this platform).
type Tracer struct{}

// Check returns ErrNotSupported on this platform.
func Check() error { return ErrNotSupported }

// Start returns ErrNotSupported on this platform.
func Start(ctx context.Context, opts Options) (*Tracer, error) { return nil, ErrNotSupported }

// Events returns a closed channel.
func (t *Tracer) Events() <-chan fsevent.Event {
	ch := make(chan fsevent.Event)
	close(ch)
	return ch
}

// Attach returns AttachAuto.
func (t *Tracer) Attach() Attach { return AttachAuto }

// Stats returns zero counters.
func (t *Tracer) Stats() Stats { return Stats{} }

// Close does nothing.
func (t *Tracer) Close() error { return nil }

// Header returns a sidecar header for eBPF events.
func (t *Tracer) Header() fsevent.Header { return fsevent.NewHeader("ebpf") }
