package capture

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Defaults for FileOptions.
const (
	// DefaultReorderPackets is how many packets of one stream are held back
	// at most to put them in time order.
	DefaultReorderPackets = 256
	// DefaultReorderWindow is how far back in capture time a packet may be
	// written after a later one and still come out in order.
	DefaultReorderWindow = 100 * time.Millisecond
)

const (
	// maxCaptureLength is the longest frame taken from a file: libpcap's
	// MAXIMUM_SNAPLEN and Wireshark's limit for Ethernet. Longer records are
	// damage, and reading them would mean allocating what the file says.
	maxCaptureLength = 262144
	// reorderBytes bounds the bytes held back per stream for reordering.
	reorderBytes = 16 << 20
	// maxStreams bounds the per-interface readers of one pcapng file. The
	// interfaces found after that are read, in file order, by the first.
	maxStreams = 16
	// readBufferSize is the buffer under each pcap or pcapng reader.
	readBufferSize = 1 << 20
)

// FileOptions tunes OpenFiles. The zero value gives the defaults.
type FileOptions struct {
	// ReorderPackets is the most packets held back per stream to put
	// slightly out-of-order packets back in time order; 0 means
	// DefaultReorderPackets, 1 turns reordering off.
	ReorderPackets int
	// ReorderWindow is how far back in capture time a packet may come after
	// a later one in the file and still be put in order; 0 means
	// DefaultReorderWindow, a negative value turns reordering off.
	ReorderWindow time.Duration
	// Offsets are added to the timestamps of every packet of the input
	// with the same index in paths before the inputs are merged, to put
	// captures made with different clocks on one clock (see package
	// clocksync). Missing entries are 0; more entries than paths is an
	// error. Packet.Info.Timestamp and InputInfo.First and Last are the
	// corrected times.
	Offsets []time.Duration
	// MaxInput bounds the bytes of each input after decompression (0: no
	// bound): beyond it the input ends with an error naming --max-input.
	MaxInput int64
	// Stdin is what the path "-" reads (nil: os.Stdin): a pcap or pcapng
	// stream, gzip'd or not, read once from its start to its end
	// (`tcpdump -w - | authflow analyze -`).
	Stdin io.Reader
}

// StdinPath is the path that names standard input.
const StdinPath = "-"

// InputInfo describes one input file, for report headers.
type InputInfo struct {
	// Path is the file name as given to OpenFiles.
	Path string
	// Format is "pcap" or "pcapng", or "" if the file could not be opened.
	Format string
	// Gzip is true if the file is gzip-compressed.
	Gzip bool
	// LinkTypes are the link types seen, in the order first seen.
	LinkTypes []layers.LinkType
	// Interfaces are the names of the pcapng interfaces that packets were
	// read from, in the order first seen (empty names are left out).
	Interfaces []string
	// Packets is the number of packets delivered so far.
	Packets int
	// First and Last are the earliest and latest timestamps delivered.
	First, Last time.Time
	// Unordered counts packets that came out earlier in time than a packet
	// of the same file before them, because they were further out of order
	// than the reorder window.
	Unordered int
	// Drops are the interfaces whose pcapng interface statistics say the
	// kernel dropped packets while capturing, in file order (none for pcap
	// files, which do not record drops). Read as the file is: complete once
	// the file has been read to its end.
	Drops []InterfaceDrops
	// Size is the file size in bytes, 0 if unknown.
	Size int64
	// Err is why the file was skipped or ended early, nil if it was read to
	// its end.
	Err error
}

// InterfaceDrops is what a pcapng interface statistics block says of an
// interface's losses: the packets it received and those the kernel
// dropped (the last block of the interface counts; they are totals).
type InterfaceDrops struct {
	// Interface is the interface's name, or "interface N" (its index in
	// the file's section) when it has none.
	Interface string
	// Received is the packets the interface received, 0 if not recorded.
	Received uint64
	// Dropped is the packets dropped before the capture got them.
	Dropped uint64
}

// FileSource reads packets from capture files, merged into one stream in
// time order. Create it with OpenFiles.
//
// Each file is read sequentially with a bounded look-ahead: one pcap file is
// one stream; a pcapng file with several interfaces (dumpcap writes each
// interface's packets in batches, so the file as a whole is not in time
// order) is read as one stream per interface, each through its own handle on
// the file. Every stream keeps a small reorder window (FileOptions) for
// packets that are slightly out of order; the streams are then merged by
// timestamp, ties going to the earlier input and then the earlier frame.
//
// Next, Inputs and Errors must be called from one goroutine; Progress may be
// called from any goroutine at any time.
type FileSource struct {
	inputs  []*input
	streams streamHeap
	spawned []*reader // readers started during a fill, not yet in streams
	out     *reader   // reader whose head slot the last Next returned
	outSlot *slot
	pkt     Packet
	closed  bool
	opts    FileOptions
	errs    []error
}

// input is one file given to OpenFiles.
type input struct {
	idx     int
	info    InputInfo
	open    opener
	size    int64
	split   bool         // may be opened again to read one stream per interface
	read    atomic.Int64 // bytes of the file consumed, for Progress
	readers int          // readers of this file still running
	claimed map[streamKey]bool
	streams int
	errSeen map[string]bool
	lastLT  layers.LinkType
	lastTS  time.Time
	shift   time.Duration // FileOptions.Offsets entry, added to every timestamp
	src     *FileSource
	// sections are where the pcapng sections start, found by the first
	// reader; a reader for one interface of section i starts there.
	sections []sectionStart
	// drops holds the interface statistics met, by stream; dropKeys is
	// their order in the file.
	drops    map[streamKey]InterfaceDrops
	dropKeys []streamKey
}

type sectionStart struct {
	offset int64 // of the section header block, in the uncompressed stream
	frames int   // packets before it
}

// opener opens an input from its beginning.
type opener func() (io.ReadCloser, error)

// OpenFiles opens capture files (pcap or pcapng, possibly gzip-compressed;
// the format is told by the first bytes, not the name) and returns a Source
// that yields their packets merged in time order. Packet.Input is the index
// of the file in paths and Packet.Frame its frame number within that file.
//
// A file that cannot be opened or is not a capture is skipped and its error
// kept in Errors; OpenFiles fails only if no file could be opened. A file
// that turns out damaged further on ends early: the packets before the
// damage are delivered and the error is added to Errors.
func OpenFiles(paths []string, opts FileOptions) (*FileSource, error) {
	ins := make([]inputSpec, len(paths))
	stdinUsed := false
	for i, p := range paths {
		if p != StdinPath {
			ins[i] = fileSpec(p)
			continue
		}
		if stdinUsed {
			ins[i] = inputSpec{path: p, err: errors.New("-: standard input named twice")}
			continue
		}
		stdinUsed = true
		ins[i] = stdinSpec(opts.Stdin)
	}
	return openInputs(ins, opts)
}

// inputSpec says how to open one input.
type inputSpec struct {
	path  string
	open  opener
	size  int64
	split bool
	err   error // set if the input cannot be opened at all
}

func fileSpec(path string) inputSpec {
	st, err := os.Stat(path)
	if err != nil {
		return inputSpec{path: path, err: err}
	}
	if st.IsDir() {
		return inputSpec{path: path, err: fmt.Errorf("%s: is a directory", path)}
	}
	if !st.Mode().IsRegular() {
		// A FIFO would block (and may never end), a device may never
		// end (/dev/zero): only files are read.
		return inputSpec{path: path, err: fmt.Errorf("%s: not a regular file (%s): authflow reads capture files (give - to read standard input)", path, fileKind(st.Mode()))}
	}
	return inputSpec{
		path:  path,
		open:  func() (io.ReadCloser, error) { return os.Open(path) },
		size:  st.Size(),
		split: st.Mode().IsRegular(),
	}
}

// fileKind names what a non-regular file is.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	}
	return "not a file"
}

// stdinSpec reads r (nil: os.Stdin) as one input: it can be opened only
// once, and so is never split into one stream per interface.
func stdinSpec(r io.Reader) inputSpec {
	if r == nil {
		r = os.Stdin
	}
	opened := false
	return inputSpec{
		path: StdinPath,
		open: func() (io.ReadCloser, error) {
			if opened {
				return nil, errors.New("-: standard input can be read only once")
			}
			opened = true
			return io.NopCloser(r), nil
		},
	}
}

func openInputs(specs []inputSpec, opts FileOptions) (*FileSource, error) {
	if opts.ReorderPackets <= 0 {
		opts.ReorderPackets = DefaultReorderPackets
	}
	if opts.ReorderWindow == 0 {
		opts.ReorderWindow = DefaultReorderWindow
	}
	if opts.ReorderWindow < 0 {
		opts.ReorderPackets = 1
	}
	if len(opts.Offsets) > len(specs) {
		return nil, fmt.Errorf("%d clock offsets given for %d capture files", len(opts.Offsets), len(specs))
	}
	s := &FileSource{opts: opts}
	opened := 0
	for i, sp := range specs {
		in := &input{
			idx:     i,
			info:    InputInfo{Path: sp.path, Size: sp.size},
			open:    sp.open,
			size:    sp.size,
			split:   sp.split,
			claimed: map[streamKey]bool{},
			errSeen: map[string]bool{},
			src:     s,
		}
		if i < len(opts.Offsets) {
			in.shift = opts.Offsets[i]
		}
		s.inputs = append(s.inputs, in)
		if sp.err != nil {
			in.fail(sp.err)
			continue
		}
		r, err := newReader(in, sectionStart{}, streamKey{}, false)
		if err != nil {
			in.fail(err)
			continue
		}
		in.info.Format = r.format()
		in.info.Gzip = r.gz != nil
		if r.pcap != nil {
			in.addLinkType(r.pcap.LinkType())
		}
		in.sections = append(in.sections, sectionStart{})
		in.readers = 1
		s.spawned = append(s.spawned, r)
		opened++
	}
	if opened == 0 {
		if len(s.errs) == 0 {
			return nil, errors.New("no capture files given")
		}
		if len(s.errs) == 1 {
			return nil, s.errs[0]
		}
		return nil, fmt.Errorf("no capture file could be read: %w", errList(s.errs))
	}
	return s, nil
}

// Next returns the next packet in time order, or io.EOF when every input is
// done. The packet and its Data are valid until the next call. Errors of
// single inputs do not stop the source; they are collected in Errors.
func (s *FileSource) Next() (*Packet, error) {
	if s.closed {
		return nil, os.ErrClosed
	}
	if s.out != nil {
		r := s.out
		r.win.release(s.outSlot)
		s.out, s.outSlot = nil, nil
		r.fill()
		if r.win.len() == 0 {
			s.streams.popTop()
		} else {
			s.streams.fixTop()
		}
	}
	s.addSpawned()
	if s.streams.len() == 0 {
		return nil, io.EOF
	}
	r := s.streams.top()
	sl := r.win.pop()
	s.out, s.outSlot = r, sl
	in := r.in
	s.pkt = Packet{
		Data:     sl.data,
		Info:     sl.ci,
		LinkType: sl.lt,
		Input:    in.idx,
		Frame:    sl.frame,
	}
	in.count(sl)
	return &s.pkt, nil
}

// addSpawned fills the readers started since the last call and puts those
// with packets into the merge; the others are finished.
func (s *FileSource) addSpawned() {
	for len(s.spawned) > 0 {
		r := s.spawned[0]
		s.spawned = s.spawned[1:]
		r.fill() // may start more readers
		if r.win.len() > 0 {
			s.streams.push(r)
		}
	}
	s.spawned = s.spawned[:0]
}

// Close closes the files. Next returns os.ErrClosed afterwards.
func (s *FileSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, r := range s.streams.s {
		errs = append(errs, r.close())
	}
	for _, r := range s.spawned {
		errs = append(errs, r.close())
	}
	s.streams.s = nil
	s.spawned = nil
	s.out, s.outSlot = nil, nil
	errs = slices.DeleteFunc(errs, func(err error) bool { return err == nil })
	if len(errs) == 0 {
		return nil
	}
	return errList(errs)
}

// errList joins errors on one line.
type errList []error

func (l errList) Error() string {
	msgs := make([]string, len(l))
	for i, err := range l {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (l errList) Unwrap() []error { return l }

// Progress reports how many bytes of the input files have been read and
// their total size, for a progress bar. For gzip files both count
// compressed bytes. It is safe to call from any goroutine.
func (s *FileSource) Progress() (read, total int64) {
	for _, in := range s.inputs {
		read += in.read.Load()
		total += in.size
	}
	return read, total
}

// Inputs describes the input files, one per path given to OpenFiles, in that
// order. The counts are those of the packets delivered so far.
func (s *FileSource) Inputs() []InputInfo {
	infos := make([]InputInfo, len(s.inputs))
	for i, in := range s.inputs {
		infos[i] = in.info
		infos[i].LinkTypes = slices.Clone(in.info.LinkTypes)
		infos[i].Interfaces = slices.Clone(in.info.Interfaces)
		for _, k := range in.dropKeys {
			if d := in.drops[k]; d.Dropped > 0 {
				infos[i].Drops = append(infos[i].Drops, d)
			}
		}
	}
	return infos
}

// Errors returns the errors met so far, one per problem, each naming its
// file: files that were skipped and files that ended early.
func (s *FileSource) Errors() []error {
	return slices.Clone(s.errs)
}

// fail records an error of this input. The same message is recorded once,
// as the readers of one pcapng file meet the same damage.
func (in *input) fail(err error) {
	msg := err.Error()
	if in.errSeen[msg] {
		return
	}
	in.errSeen[msg] = true
	if in.info.Err == nil {
		in.info.Err = err
	}
	in.src.errs = append(in.src.errs, err)
}

func (in *input) addLinkType(lt layers.LinkType) {
	if !slices.Contains(in.info.LinkTypes, lt) {
		in.info.LinkTypes = append(in.info.LinkTypes, lt)
	}
	in.lastLT = lt
}

func (in *input) addInterface(name string) {
	if name != "" && len(in.info.Interfaces) < maxListedInterfaces && !slices.Contains(in.info.Interfaces, name) {
		in.info.Interfaces = append(in.info.Interfaces, name)
	}
}

// addStats records an interface statistics block of stream key: its
// counts are totals, so a later block replaces an earlier one, except for
// counts it does not record. Every reader of a file meets the same blocks.
func (in *input) addStats(key streamKey, name string, st pcapgo.NgInterfaceStatistics) {
	if in.drops == nil {
		in.drops = map[streamKey]InterfaceDrops{}
	}
	d, seen := in.drops[key]
	if !seen {
		in.dropKeys = append(in.dropKeys, key)
		d.Interface = name
		if d.Interface == "" {
			d.Interface = fmt.Sprintf("interface %d", key.iface)
		}
	}
	if st.PacketsReceived != pcapgo.NgNoValue64 {
		d.Received = st.PacketsReceived
	}
	if st.PacketsDropped != pcapgo.NgNoValue64 {
		d.Dropped = st.PacketsDropped
	}
	in.drops[key] = d
}

// count updates the statistics with a delivered packet.
func (in *input) count(sl *slot) {
	info := &in.info
	ts := sl.ci.Timestamp
	if info.Packets == 0 {
		info.First, info.Last = ts, ts
	} else {
		if ts.Before(in.lastTS) {
			info.Unordered++
		}
		if ts.Before(info.First) {
			info.First = ts
		}
		if ts.After(info.Last) {
			info.Last = ts
		}
	}
	in.lastTS = ts
	info.Packets++
	if sl.lt != in.lastLT {
		in.addLinkType(sl.lt)
	}
}
