package capture

import (
	"io"
	"os"
	"testing"
)

// The benchmarks read one packet per operation, so allocs/op is per packet;
// MB/s counts file bytes. The file is opened again when it ends, which
// costs a few allocations per pass over the file.
//
// AUTHFLOW_BENCH_FILE=/path/to/capture benchmarks a file of your own in
// BenchmarkReadFile.

func BenchmarkReadPcap(b *testing.B) {
	data := bigPcap(b, readFixture(b, "token-issue-lo.pcap"), 100) // 8 MB
	benchmarkRead(b, writeTemp(b, "lo.pcap", data))
}

func BenchmarkReadPcapGzip(b *testing.B) {
	data := gzipBytes(b, bigPcap(b, readFixture(b, "token-issue-lo.pcap"), 100))
	benchmarkRead(b, writeTemp(b, "lo.pcap.gz", data))
}

func BenchmarkReadPcapng(b *testing.B) {
	benchmarkRead(b, writeTemp(b, "batched.pcapng", batchedPcapng(20000, 200)))
}

func BenchmarkReadFile(b *testing.B) {
	path := os.Getenv("AUTHFLOW_BENCH_FILE")
	if path == "" {
		b.Skip("AUTHFLOW_BENCH_FILE not set")
	}
	benchmarkRead(b, path)
}

func benchmarkRead(b *testing.B, path string) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	// Count the packets for the bytes per operation.
	s, err := OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		if _, err := s.Next(); err != nil {
			break
		}
		n++
	}
	s.Close()
	if n == 0 {
		b.Fatal("no packets")
	}
	b.SetBytes(st.Size() / int64(n))
	b.ReportAllocs()

	s, err = OpenFiles([]string{path}, FileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		_, err := s.Next()
		if err == io.EOF {
			s.Close()
			if s, err = OpenFiles([]string{path}, FileOptions{}); err != nil {
				b.Fatal(err)
			}
			_, err = s.Next()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	s.Close()
}
