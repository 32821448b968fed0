//go:build ignore

// Cutcap copies the first packets of a capture file, keeping the file's own
// blocks and records byte for byte. It made the cut fixtures in this folder:
//
//	go run cutcap.go -n 200 OUTDIR/image-list-cold/any.pcap any-200.pcap
//	go run cutcap.go -n 300 OUTDIR/image-save/both.pcapng both-300.pcapng
//
// OUTDIR is a folder written by `lab/record.sh all OUTDIR`.
//
// For pcapng every block that is not a packet (section headers, interface
// descriptions, statistics) is kept wherever it is; packet blocks after the
// first n are dropped.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	n := flag.Int("n", 100, "packets to keep")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run cutcap.go -n N in out")
		os.Exit(2)
	}
	if err := cut(flag.Arg(0), flag.Arg(1), *n); err != nil {
		fmt.Fprintln(os.Stderr, "cutcap:", err)
		os.Exit(1)
	}
}

func cut(in, out string, n int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	magic, err := r.Peek(4)
	if err != nil {
		return err
	}
	if binary.BigEndian.Uint32(magic) == 0x0a0d0d0a {
		err = cutNg(r, bw, n)
	} else {
		err = cutPcap(r, bw, n)
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return w.Close()
}

func cutPcap(r io.Reader, w io.Writer, n int) error {
	hdr := make([]byte, 24)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return err
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if hdr[0] == 0xa1 || hdr[0] == 0x4d && hdr[1] == 0x3c {
		bo = binary.BigEndian
	}
	w.Write(hdr)
	rec := make([]byte, 16)
	for i := 0; i < n; i++ {
		if _, err := io.ReadFull(r, rec); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		w.Write(rec)
		if _, err := io.CopyN(w, r, int64(bo.Uint32(rec[8:12]))); err != nil {
			return err
		}
	}
	return nil
}

func cutNg(r io.Reader, w io.Writer, n int) error {
	var bo binary.ByteOrder = binary.LittleEndian
	hdr := make([]byte, 12)
	packets := 0
	for {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		typ := binary.LittleEndian.Uint32(hdr[0:4])
		if typ == 0x0a0d0d0a {
			if _, err := io.ReadFull(r, hdr[8:12]); err != nil {
				return err
			}
			if binary.BigEndian.Uint32(hdr[8:12]) == 0x1a2b3c4d {
				bo = binary.BigEndian
			} else {
				bo = binary.LittleEndian
			}
		} else {
			typ = bo.Uint32(hdr[0:4])
		}
		length := int64(bo.Uint32(hdr[4:8]))
		head := hdr[:8]
		if typ == 0x0a0d0d0a {
			head = hdr[:12]
		}
		keep := true
		if typ == 2 || typ == 3 || typ == 6 {
			packets++
			keep = packets <= n
		}
		rest := length - int64(len(head))
		if keep {
			w.Write(head)
			if _, err := io.CopyN(w, r, rest); err != nil {
				return err
			}
		} else if _, err := io.CopyN(io.Discard, r, rest); err != nil {
			return err
		}
	}
}
