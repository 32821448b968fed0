package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// pcapng block types and the secrets type of a TLS key log.
const (
	ngSectionHeader      = 0x0A0D0D0A
	ngDecryptionSecrets  = 0x0000000A
	secretsTLSKeyLog     = 0x544c534b // "TLSK"
	maxSecretsBytes      = 16 << 20
	maxSkippedBlockBytes = 1 << 30
)

// TLSKeyLogs returns the TLS key logs (NSS key log text) embedded in the
// Decryption Secrets Blocks of a pcapng file (gzip-compressed or not), as
// `editcap --inject-secrets tls,KEYLOG` writes them. gopacket's pcapgo
// reads these blocks but does not hand them out, so they are read here,
// walking the blocks. A pcap file has none. Reading stops at the first
// damaged block; the key logs found before it are returned with an error
// naming the file.
func TLSKeyLogs(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if b, _ := br.Peek(2); len(b) == 2 && b[0] == gzipMagic0 && b[1] == gzipMagic1 {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		r = bufio.NewReader(gz)
	}
	return readTLSKeyLogs(r, filepath.Base(path))
}

// readTLSKeyLogs walks the pcapng blocks of r (named name in errors).
func readTLSKeyLogs(r io.Reader, name string) ([][]byte, error) {
	var out [][]byte
	total := 0
	var order binary.ByteOrder = binary.LittleEndian
	var hdr [12]byte
	for first := true; ; first = false {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			if errors.Is(err, io.EOF) && !first {
				return out, nil
			}
			if first {
				return nil, nil // too short for pcapng: not one
			}
			return out, fmt.Errorf("%s: pcapng block cut short", name)
		}
		typ := binary.LittleEndian.Uint32(hdr[:4])
		if first && typ != ngSectionHeader {
			return nil, nil // a pcap file
		}
		if typ == ngSectionHeader {
			if _, err := io.ReadFull(r, hdr[8:12]); err != nil {
				return out, fmt.Errorf("%s: pcapng section header cut short", name)
			}
			switch binary.LittleEndian.Uint32(hdr[8:12]) {
			case 0x1A2B3C4D:
				order = binary.LittleEndian
			case 0x4D3C2B1A:
				order = binary.BigEndian
			default:
				return out, fmt.Errorf("%s: pcapng section header has no byte-order magic", name)
			}
		}
		length := int64(order.Uint32(hdr[4:8]))
		read := int64(8)
		if typ == ngSectionHeader {
			read = 12
		}
		if length < read+4 || length%4 != 0 || length > maxSkippedBlockBytes {
			return out, fmt.Errorf("%s: pcapng block of %d bytes is malformed", name, length)
		}
		if order.Uint32(hdr[:4]) == ngDecryptionSecrets && length >= 20 {
			var dh [8]byte
			if _, err := io.ReadFull(r, dh[:]); err != nil {
				return out, fmt.Errorf("%s: Decryption Secrets Block cut short", name)
			}
			read += 8
			st, sl := order.Uint32(dh[:4]), int64(order.Uint32(dh[4:8]))
			if sl > length-read-4 || total+int(sl) > maxSecretsBytes {
				return out, fmt.Errorf("%s: Decryption Secrets Block of %d bytes is malformed or beyond %d bytes of secrets", name, sl, maxSecretsBytes)
			}
			data := make([]byte, sl)
			if _, err := io.ReadFull(r, data); err != nil {
				return out, fmt.Errorf("%s: Decryption Secrets Block cut short", name)
			}
			read += sl
			if st == secretsTLSKeyLog {
				out = append(out, data)
				total += int(sl)
			}
		}
		if _, err := io.CopyN(io.Discard, r, length-read); err != nil {
			return out, fmt.Errorf("%s: pcapng block cut short", name)
		}
	}
}
