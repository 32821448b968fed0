package live

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestParseCapEff(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    uint64
		wantErr bool
	}{
		{"root", "Name:\tauthflow\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n", 0x1ffffffffff, false},
		{"setcap", "CapEff:\t000000c000002000\nCapBnd:\t000001ffffffffff\n", 0xc000002000, false},
		{"none", "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n", 0, false},
		{"missing", "Name:\tx\n", 0, true},
		{"garbage", "CapEff:\tzzzz\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCapEff(strings.NewReader(tt.status))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseCapEff = %#x, %v; want %#x, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCheckCaps(t *testing.T) {
	const userMsg = "capture needs CAP_NET_RAW: run as root or grant it with 'sudo setcap cap_net_raw,cap_bpf,cap_perfmon+ep $(which authflow)'"
	tests := []struct {
		name   string
		euid   int
		capEff uint64
		want   string
	}{
		{"root", 0, 0x1ffffffffff, ""},
		{"user_with_setcap", 1000, 1<<13 | 1<<38 | 1<<39, ""},
		{"user", 1000, 0, userMsg},
		{"user_with_other_caps", 1000, 1<<38 | 1<<39, userMsg},
		{"root_without_net_raw", 0, 0x1ffffffffff &^ (1 << 13), "capture needs CAP_NET_RAW: running as root, but CAP_NET_RAW is not in the effective capability set (a container that drops it?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkCaps(tt.euid, tt.capEff)
			if tt.want == "" {
				if err != nil {
					t.Errorf("error %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if !errors.Is(err, fs.ErrPermission) {
				t.Errorf("error %v is not fs.ErrPermission", err)
			}
		})
	}
}

func TestOptionsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no_interface", Options{}, "no interface to capture on"},
		{"twice", Options{Interfaces: []string{"lo", "eth0", "lo"}}, `interface "lo" given more than once`},
		{"snaplen_negative", Options{Interfaces: []string{"lo"}, SnapLen: -1}, "snap length -1 out of range 1..262144"},
		{"snaplen_big", Options{Interfaces: []string{"lo"}, SnapLen: 1 << 20}, "snap length 1048576 out of range 1..262144"},
		{"ring_small", Options{Interfaces: []string{"lo"}, RingSize: 4096}, "ring size 4096 out of range 1048576..1073741824 bytes"},
		{"ring_big", Options{Interfaces: []string{"lo"}, RingSize: 2 << 30}, "ring size 2147483648 out of range 1048576..1073741824 bytes"},
		{"count_negative", Options{Interfaces: []string{"lo"}, Count: -3}, "packet count -3 is negative"},
		{"port_zero", Options{Interfaces: []string{"lo"}, Ports: []uint16{0}}, "port 0 cannot be captured"},
		{"unknown_interface", Options{Interfaces: []string{"lo", "veth9"}}, `interface "veth9": no such network interface`},
		{"empty_name", Options{Interfaces: []string{""}}, `interface "": no such network interface`},
		{"long_name", Options{Interfaces: []string{"a-very-long-interface-name"}}, `interface "a-very-long-interface-name": no such network interface`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Open(context.Background(), tt.opts)
			if err == nil {
				c.Close()
				t.Fatalf("Open succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Open error %q, want %q", err, tt.want)
			}
		})
	}
	if _, err := Open(context.Background(), Options{Interfaces: []string{"veth9"}}); !errors.Is(err, ErrNoSuchInterface) {
		t.Errorf("Open on veth9: %v is not ErrNoSuchInterface", err)
	}
}

func TestOptionsDefaults(t *testing.T) {
	cfg, err := Options{Interfaces: []string{"lo"}}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.snapLen != DefaultSnapLen || cfg.numBlocks != 64 || len(cfg.ports) != len(DefaultPorts()) {
		t.Errorf("defaults: %+v", cfg)
	}
	cfg, err = Options{Interfaces: []string{"lo"}, RingSize: 3<<20 + 1, Ports: []uint16{80, 80, 443}}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.numBlocks != 4 || len(cfg.ports) != 2 {
		t.Errorf("ring of 3 MiB + 1 and ports 80,80,443: %+v", cfg)
	}
}
