// Command loopback is the live-capture load of authflow's benchmark: an
// HTTP server on the loopback interface that serves an image download the
// way glance does (GET /v2/images/ID/file, application/octet-stream, a
// Content-Length body written in 64 KiB chunks), and a client that
// downloads it as fast as it can and prints the rate.
//
//	go run ./bench/loopback -bytes 4294967296 -addr 127.0.0.1:9292
//
// Its last line is "bytes=N seconds=S gbit_per_s=R" for the script.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"
)

const imageID = "0b6e3e3e-8a4f-4a43-9b0e-5d2f8c7c6a11"

func main() {
	n := flag.Int64("bytes", 4<<30, "bytes to download")
	addr := flag.String("addr", "127.0.0.1:9292", "where the server listens")
	rate := flag.Float64("gbit", 2, "pace the server at this many Gbit/s (0: as fast as it can)")
	flag.Parse()
	log.SetFlags(0)
	if *n <= 0 {
		log.Fatalf("loopback: -bytes %d: want a positive size", *n)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("loopback: %v", err)
	}
	go http.Serve(ln, server(*n, *rate))
	start := time.Now()
	got, err := download("http://" + ln.Addr().String() + "/v2/images/" + imageID + "/file")
	secs := time.Since(start).Seconds()
	if err != nil {
		log.Fatalf("loopback: download: %v", err)
	}
	if got != *n {
		log.Fatalf("loopback: downloaded %d bytes, want %d", got, *n)
	}
	fmt.Printf("bytes=%d seconds=%.3f gbit_per_s=%.2f\n", got, secs, float64(got)*8/secs/1e9)
}

// server answers every GET with an n-byte image, written in glance's
// 64 KiB chunks, at most gbit Gbit/s when gbit > 0.
func server(n int64, gbit float64) http.Handler {
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		w.Header().Set("X-Openstack-Request-Id", "req-bench-loopback")
		start := time.Now()
		for sent := int64(0); sent < n; {
			k := min(n-sent, int64(len(chunk)))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			sent += k
			if gbit > 0 {
				due := time.Duration(float64(sent) * 8 / gbit) // ns at gbit bits per ns
				if ahead := due - time.Since(start); ahead > time.Millisecond {
					time.Sleep(ahead)
				}
			}
		}
	})
}

func download(url string) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "python-glanceclient")
	req.Header.Set("X-Auth-Token", "gAAAAABbenchloopbacktokenXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, errors.New(resp.Status)
	}
	return io.CopyBuffer(io.Discard, resp.Body, make([]byte, 256<<10))
}
