package filetrace

// The eBPF program is compiled by bpf2go (pinned in go.mod's tool block) and
// the generated filetrace_x86_bpfel.go and .o are committed, so that building
// authflow needs no C toolchain. Regenerate after editing bpf/ with
//
//	go generate ./capture/filetrace
//
// which needs clang and llvm-strip (Debian: apt-get install clang llvm).
// Only x86_64 is generated: the program reads x86_64 pt_regs and syscall
// numbers.

//go:generate go tool bpf2go -cc clang -strip llvm-strip -target amd64 -type event -type open_event filetrace bpf/filetrace.bpf.c -- -I./bpf -O2 -g -Wall -Werror
