package live

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"github.com/authflow/authflow/capture"
)

// PcapngWriter writes packets to a pcapng file with one interface
// description block per interface, nanosecond timestamps, and interface
// statistics blocks at the end. It is not safe for concurrent use.
type PcapngWriter struct {
	path   string
	f      *os.File
	buf    *bufio.Writer // between pcapgo's small buffer and the file
	w      *pcapgo.NgWriter
	out    io.Writer // what w writes to, for the blocks pcapgo cannot write
	ifaces []Interface
	err    error // first write error, sticky
}

// NewPcapngWriter creates (or replaces) the file at path with owner-only
// permissions (see CreateFile: 0600, never through a symbolic link; the
// mode of a device or pipe is left alone) and writes the section header
// and one interface description block per interface. Packet.Input selects
// the interface of each packet.
func NewPcapngWriter(path string, ifaces []Interface) (*PcapngWriter, error) {
	if len(ifaces) == 0 {
		return nil, fmt.Errorf("create %s: no interfaces", path)
	}
	f, err := CreateFile(path)
	if err != nil {
		return nil, fmt.Errorf("create capture file: %w", err)
	}
	// The mode given to OpenFile is cut by the umask. Only regular files
	// are changed: -w /dev/null must not make /dev/null root-only.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("create capture file: %w", err)
		}
	}
	buf := bufio.NewWriterSize(f, fileBufferSize)
	pw, err := newPcapngWriter(buf, ifaces)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	pw.path, pw.f, pw.buf = path, f, buf
	return pw, nil
}

// fileBufferSize is the write buffer of capture files: pcapgo buffers only
// 4 KiB, which would cost a system call or two per large frame.
const fileBufferSize = 1 << 20

// newPcapngWriter writes the section header and interface blocks to w.
func newPcapngWriter(w io.Writer, ifaces []Interface) (*PcapngWriter, error) {
	section := pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    runtime.GOARCH,
		OS:          osDescription(),
		Application: "authflow",
	}}
	ng, err := pcapgo.NewNgWriterInterface(w, ngInterface(ifaces[0]), section)
	if err != nil {
		return nil, err
	}
	for _, ifc := range ifaces[1:] {
		if _, err := ng.AddInterface(ngInterface(ifc)); err != nil {
			return nil, err
		}
	}
	return &PcapngWriter{w: ng, out: w, ifaces: append([]Interface(nil), ifaces...)}, nil
}

func ngInterface(ifc Interface) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                ifc.Name,
		Filter:              ifc.Filter,
		OS:                  runtime.GOOS,
		LinkType:            ifc.LinkType,
		SnapLength:          ifc.SnapLen,
		TimestampResolution: 9, // pcapgo always writes nanoseconds
	}
}

// osDescription is the kernel name and release, like "Linux 6.1.0".
func osDescription() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return runtime.GOOS
	}
	sys := string(bytes.TrimRight(u.Sysname[:], "\x00"))
	rel := string(bytes.TrimRight(u.Release[:], "\x00"))
	return sys + " " + rel
}

// WritePacket appends one packet; p.Input must be the index of one of the
// writer's interfaces.
func (w *PcapngWriter) WritePacket(p *capture.Packet) error {
	if w.err != nil {
		return w.err
	}
	if p.Input < 0 || p.Input >= len(w.ifaces) {
		return fmt.Errorf("write %s: packet from input %d, but the file has %d interfaces", w.path, p.Input, len(w.ifaces))
	}
	ci := p.Info
	ci.InterfaceIndex = p.Input
	ci.CaptureLength = len(p.Data)
	if ci.Length < ci.CaptureLength {
		ci.Length = ci.CaptureLength
	}
	if err := w.w.WritePacket(ci, p.Data); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

// SecretsTLSKeyLog is the secrets type of a Decryption Secrets Block
// holding an NSS key log ("TLSK").
const SecretsTLSKeyLog = 0x544c534b

// blockDecryptionSecrets is the pcapng block type of a Decryption Secrets
// Block.
const blockDecryptionSecrets = 0x0000000A

// WriteDecryptionSecrets appends a Decryption Secrets Block of the secrets
// type (SecretsTLSKeyLog) holding data, as `editcap --inject-secrets`
// writes and Wireshark reads: the packets written after it can be
// decrypted with it. pcapgo's NgWriter (v1.7.7) cannot write this block,
// so its buffered blocks are flushed and the block is written after them
// to the writer underneath, in the little-endian order pcapgo writes the
// section in.
func (w *PcapngWriter) WriteDecryptionSecrets(secretsType uint32, data []byte) error {
	if w.err != nil {
		return w.err
	}
	if len(data) > 1<<24 {
		return fmt.Errorf("write %s: %d bytes of decryption secrets in one block", w.path, len(data))
	}
	if err := w.w.Flush(); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
		return w.err
	}
	padded := (len(data) + 3) &^ 3
	total := 4 + 4 + 4 + 4 + padded + 4
	b := make([]byte, total)
	binary.LittleEndian.PutUint32(b[0:], blockDecryptionSecrets)
	binary.LittleEndian.PutUint32(b[4:], uint32(total))
	binary.LittleEndian.PutUint32(b[8:], secretsType)
	binary.LittleEndian.PutUint32(b[12:], uint32(len(data)))
	copy(b[16:], data)
	binary.LittleEndian.PutUint32(b[total-4:], uint32(total))
	if _, err := w.out.Write(b); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.path, err)
	}
	return w.err
}

// WriteStats writes one interface statistics block per entry, matched to
// the interfaces by position, with the received and dropped counts and the
// start and end times.
func (w *PcapngWriter) WriteStats(stats []InterfaceStats) error {
	if w.err != nil {
		return w.err
	}
	if len(stats) > len(w.ifaces) {
		return fmt.Errorf("write %s: statistics for %d interfaces, but the file has %d", w.path, len(stats), len(w.ifaces))
	}
	for i, s := range stats {
		err := w.w.WriteInterfaceStats(i, pcapgo.NgInterfaceStatistics{
			LastUpdate:      s.End,
			StartTime:       s.Start,
			EndTime:         s.End,
			PacketsReceived: s.Received,
			PacketsDropped:  s.Dropped,
		})
		if err != nil {
			w.err = fmt.Errorf("write %s: %w", w.path, err)
			return w.err
		}
	}
	return nil
}

// Close flushes buffered blocks and closes the file. It returns the first
// error met while writing, flushing or closing; later calls return nil.
func (w *PcapngWriter) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.err
	if ferr := w.w.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write %s: %w", w.path, ferr)
	}
	if ferr := w.buf.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("write %s: %w", w.path, ferr)
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close %s: %w", w.path, cerr)
	}
	w.f = nil
	if w.err == nil {
		w.err = fmt.Errorf("write %s: %w", w.path, errClosed)
	}
	return err
}

// errClosed makes writes after Close fail.
var errClosed = errors.New("writer is closed")
