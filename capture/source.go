// Package capture reads network packets from capture files and live
// interfaces and hands them on, one frame at a time and in time order, to
// the decoding stage.
package capture

import (
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Packet is one captured frame.
type Packet struct {
	// Data is the frame, starting at the link-layer header. It is only
	// valid until the next call to Next of the Source that returned it.
	Data []byte
	// Info holds the capture timestamp and lengths as recorded.
	Info gopacket.CaptureInfo
	// LinkType says how to decode Data.
	LinkType layers.LinkType
	// Input is the index of the file (or interface, for live capture) the
	// packet came from, in the order the inputs were given.
	Input int
	// Frame is the 1-based number of the frame within its input, as
	// Wireshark numbers it.
	Frame int
}

// Source yields packets in time order.
type Source interface {
	// Next returns the next packet, or io.EOF when there are no more.
	// The returned packet and its Data are only valid until the next call.
	Next() (*Packet, error)
	// Close releases the files or sockets behind the source.
	Close() error
}
