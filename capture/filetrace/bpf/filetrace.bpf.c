// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * filetrace: file events for authflow. x86_64 only.
 *
 * One program at syscall exit sees the syscall number, its first three
 * arguments (still in pt_regs) and its return value. It follows opens whose
 * path starts with a prefix, remembers the returned descriptor in the fds
 * map keyed by (tgid, fd), and reports reads, writes and closes of those
 * descriptors only. Everything else returns after a few instructions.
 *
 * Three attach forms carry the same logic (the loader keeps one):
 *   tp_btf/sys_exit      BTF tracepoint: pt_regs read directly (preferred)
 *   raw_tp/sys_exit      raw tracepoint: pt_regs read with probe_read_kernel
 *   tracepoint/raw_syscalls/sys_{enter,exit}  classic tracepoints (tracefs):
 *                        arguments saved at entry in the inflight map
 *
 * With a pid filter, tracepoint/task/task_newtask adds each process that a
 * followed process creates to the followed set (tgids map).
 *
 * Events go through a ring buffer, submitted without a wakeup unless the
 * buffer is more than wakeup_bytes full: the reader polls with a deadline.
 */
#include "filetrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_creat 85
#define NR_openat 257
#define NR_splice 275
#define NR_preadv 295
#define NR_pwritev 296
#define NR_copy_file_range 326
#define NR_preadv2 327
#define NR_pwritev2 328
#define NR_openat2 437

/* Operations, the same numbers as fsevent.Op. */
#define OP_OPEN 1
#define OP_READ 2
#define OP_WRITE 3
#define OP_CLOSE 4

#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000

#define PATH_LEN 256
#define RINGBUF_BYTES (4 << 20)

/* Filters and settings, set by the loader before loading. */
volatile const u32 self_tgid = 0;      /* never trace the tracer */
volatile const u32 follow_tgids = 0;   /* 1: only processes in the tgids map */
volatile const u32 filter_comm = 0;    /* 1: compare target_comm */
volatile const u64 target_comm[2] = {}; /* 16 bytes, NUL padded */
volatile const u64 target_cgroup = 0;  /* cgroup v2 id, 0: any */
volatile const u32 cgroup_level = 0;   /* its level (root = 0) */
volatile const u32 prefix_len = 0;     /* 0: every path */
volatile const char prefix[PATH_LEN] = {};
volatile const u64 wakeup_bytes = RINGBUF_BYTES / 2;

/* struct event: every record starts with it (48 bytes). */
struct event {
	u64 ts;        /* bpf_ktime_get_ns() at exit: CLOCK_MONOTONIC */
	s64 ret;       /* return value */
	u32 pid;       /* tgid */
	u32 tid;
	s32 fd;        /* returned (open) or used */
	u16 nr;        /* syscall number */
	u8 op;         /* OP_* */
	u8 path_len;   /* open: bytes of path without NUL, 255 if cut */
	u64 comm[2];
};

/* struct open_event: an open (312 bytes). */
struct open_event {
	struct event e;
	u64 flags;
	char path[PATH_LEN];
};

struct fdkey {
	u32 tgid;
	s32 fd;
};

struct args3 {
	u64 a0, a1, a2;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_BYTES);
} events SEC(".maps");

/* Descriptors whose open matched the filters. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fdkey);
	__type(value, u32);
} fds SEC(".maps");

/*
 * Processes followed when follow_tgids is set: the loader puts the process
 * asked for and its descendants found in /proc; task_newtask adds every
 * process a followed process creates (threads share their tgid already).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);
	__type(value, u32);
} tgids SEC(".maps");

/* Records lost because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} lost SEC(".maps");

/* Scratch space to read a path before knowing whether it matches. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct open_event);
} scratch SEC(".maps");

/* Arguments saved at entry, for classic tracepoints only. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, u64);
	__type(value, struct args3);
} inflight SEC(".maps");

/* Keep the types in the object's BTF for bpf2go -type. */
const struct event *unused_event __attribute__((unused));
const struct open_event *unused_open_event __attribute__((unused));

static __always_inline int followed(u64 nr)
{
	switch (nr) {
	case NR_read: case NR_write: case NR_open: case NR_close:
	case NR_pread64: case NR_pwrite64: case NR_readv: case NR_writev:
	case NR_sendfile: case NR_creat: case NR_openat: case NR_splice:
	case NR_preadv: case NR_pwritev: case NR_copy_file_range:
	case NR_preadv2: case NR_pwritev2: case NR_openat2:
		return 1;
	}
	return 0;
}

static __always_inline u64 wake_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void count_lost(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		*n += 1;
}

/* tgid_ok is the cheap check made first for every followed syscall. */
static __always_inline int tgid_ok(u32 tgid)
{
	if (tgid == self_tgid)
		return 0;
	if (follow_tgids && !bpf_map_lookup_elem(&tgids, &tgid))
		return 0;
	return 1;
}

/* A read, write or close: only of descriptors in the fds map. */
static __always_inline void on_fd(u16 nr, u8 op, u64 pid_tgid, u64 fd, s64 ret)
{
	struct fdkey k = { .tgid = pid_tgid >> 32, .fd = (s32)fd };

	if (!bpf_map_lookup_elem(&fds, &k))
		return;
	if (op == OP_CLOSE)
		bpf_map_delete_elem(&fds, &k);
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return;
	}
	e->ts = bpf_ktime_get_ns();
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = (u32)pid_tgid;
	e->fd = (s32)fd;
	e->nr = nr;
	e->op = op;
	e->path_len = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, wake_flags());
}

static __always_inline int prefix_match(const char *path, long n)
{
	if (prefix_len == 0)
		return 1;
	if (n <= 0 || (u64)(n - 1) < prefix_len)
		return 0;
	for (u32 i = 0; i < PATH_LEN; i++) {
		if (i >= prefix_len)
			break;
		if (path[i] != prefix[i])
			return 0;
	}
	return 1;
}

/* An open: filters, then the path prefix. */
static __always_inline void on_open(u16 nr, u64 pid_tgid, const void *upath, u64 flags, s64 ret)
{
	u32 tgid = pid_tgid >> 32;
	u64 comm[2] = {};

	bpf_get_current_comm(comm, sizeof(comm));
	if (filter_comm && (comm[0] != target_comm[0] || comm[1] != target_comm[1]))
		return;
	if (target_cgroup && bpf_get_current_ancestor_cgroup_id(cgroup_level) != target_cgroup)
		return;

	u32 zero = 0;
	struct open_event *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return;
	long n = bpf_probe_read_user_str(s->path, sizeof(s->path), upath);
	struct fdkey k = { .tgid = tgid, .fd = (s32)ret };
	if (!prefix_match(s->path, n)) {
		/* A descriptor number reused for another file. */
		if (ret >= 0)
			bpf_map_delete_elem(&fds, &k);
		return;
	}
	if (ret >= 0) {
		u32 one = 1;
		bpf_map_update_elem(&fds, &k, &one, BPF_ANY);
	}

	struct open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return;
	}
	e->e.ts = bpf_ktime_get_ns();
	e->e.ret = ret;
	e->e.pid = tgid;
	e->e.tid = (u32)pid_tgid;
	e->e.fd = ret >= 0 ? (s32)ret : -1;
	e->e.nr = nr;
	e->e.op = OP_OPEN;
	e->e.path_len = n > 0 ? (u8)(n - 1) : 0;
	e->e.comm[0] = comm[0];
	e->e.comm[1] = comm[1];
	e->flags = flags;
	__builtin_memcpy(e->path, s->path, sizeof(e->path));
	bpf_ringbuf_submit(e, wake_flags());
}

static __always_inline int on_exit(u64 nr, u64 a0, u64 a1, u64 a2, s64 ret)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!tgid_ok(pid_tgid >> 32))
		return 0;
	switch (nr) {
	case NR_read: case NR_pread64: case NR_readv: case NR_preadv: case NR_preadv2:
		on_fd(nr, OP_READ, pid_tgid, a0, ret);
		break;
	case NR_write: case NR_pwrite64: case NR_writev: case NR_pwritev: case NR_pwritev2:
		on_fd(nr, OP_WRITE, pid_tgid, a0, ret);
		break;
	case NR_close:
		on_fd(nr, OP_CLOSE, pid_tgid, a0, ret);
		break;
	case NR_sendfile: /* (out_fd, in_fd, offset, count) */
		on_fd(nr, OP_READ, pid_tgid, a1, ret);
		on_fd(nr, OP_WRITE, pid_tgid, a0, ret);
		break;
	case NR_splice: /* (fd_in, off_in, fd_out, ...) */
	case NR_copy_file_range:
		on_fd(nr, OP_READ, pid_tgid, a0, ret);
		on_fd(nr, OP_WRITE, pid_tgid, a2, ret);
		break;
	case NR_open: /* (path, flags, mode) */
		on_open(nr, pid_tgid, (const void *)a0, a1, ret);
		break;
	case NR_creat: /* (path, mode) */
		on_open(nr, pid_tgid, (const void *)a0, O_WRONLY | O_CREAT | O_TRUNC, ret);
		break;
	case NR_openat: /* (dirfd, path, flags, mode) */
		on_open(nr, pid_tgid, (const void *)a1, a2, ret);
		break;
	case NR_openat2: { /* (dirfd, path, struct open_how *, size) */
		u64 flags = 0;
		bpf_probe_read_user(&flags, sizeof(flags), (const void *)a2);
		on_open(nr, pid_tgid, (const void *)a1, flags, ret);
		break;
	}
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int sys_exit_btf(u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	u64 nr = regs->orig_ax;

	if (!followed(nr))
		return 0;
	return on_exit(nr, regs->di, regs->si, regs->dx, (s64)ctx[1]);
}

SEC("raw_tp/sys_exit")
int sys_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	u64 nr = 0, a0 = 0, a1 = 0, a2 = 0;

	bpf_probe_read_kernel(&nr, sizeof(nr), &regs->orig_ax);
	if (!followed(nr))
		return 0;
	bpf_probe_read_kernel(&a0, sizeof(a0), &regs->di);
	bpf_probe_read_kernel(&a1, sizeof(a1), &regs->si);
	bpf_probe_read_kernel(&a2, sizeof(a2), &regs->dx);
	return on_exit(nr, a0, a1, a2, (s64)ctx->args[1]);
}

/* Formats of raw_syscalls:sys_enter and sys_exit (see their format files). */
struct sys_enter_ctx {
	u64 common;
	s64 id;
	u64 args[6];
};

struct sys_exit_ctx {
	u64 common;
	s64 id;
	s64 ret;
};

SEC("tracepoint/raw_syscalls/sys_enter")
int sys_enter_tp(struct sys_enter_ctx *ctx)
{
	if (!followed(ctx->id))
		return 0;
	u64 pid_tgid = bpf_get_current_pid_tgid();
	if (!tgid_ok(pid_tgid >> 32))
		return 0;
	struct args3 a = { .a0 = ctx->args[0], .a1 = ctx->args[1], .a2 = ctx->args[2] };
	bpf_map_update_elem(&inflight, &pid_tgid, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit_tp(struct sys_exit_ctx *ctx)
{
	if (!followed(ctx->id))
		return 0;
	u64 pid_tgid = bpf_get_current_pid_tgid();
	struct args3 *p = bpf_map_lookup_elem(&inflight, &pid_tgid);
	if (!p)
		return 0;
	struct args3 a = *p;
	bpf_map_delete_elem(&inflight, &pid_tgid);
	return on_exit(ctx->id, a.a0, a.a1, a.a2, ctx->ret);
}

/* Format of task:task_newtask (see its format file). */
struct task_newtask_ctx {
	u64 common;
	s32 pid;
	char comm[16];
	u64 clone_flags;
};

#define CLONE_THREAD 0x00010000

/*
 * A new task: when a followed process creates a process (not a thread),
 * the child is followed too (glance-api's workers are its children). It
 * runs in the parent, before the child can run, so no call of the child is
 * missed.
 */
SEC("tracepoint/task/task_newtask")
int task_newtask_tp(struct task_newtask_ctx *ctx)
{
	if (!follow_tgids || (ctx->clone_flags & CLONE_THREAD))
		return 0;
	u32 parent = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&tgids, &parent))
		return 0;
	u32 child = (u32)ctx->pid, one = 1;
	bpf_map_update_elem(&tgids, &child, &one, BPF_ANY);
	return 0;
}
