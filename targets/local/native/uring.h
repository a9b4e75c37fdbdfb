// Batched reads and writes through io_uring: many TUN reads or writes for one system call.
// A TUN device has no recvmmsg: each packet would cost a read(2) and a write(2), and a system
// call is the dearest part of a small packet's trip (~1 µs on a virtual machine). The wire
// queues its reads and writes here and hands them to the kernel together; the kernel does them
// at once (non-blocking descriptors complete inline, or fail with EAGAIN), so every completion
// is back when uring_submit returns. Where io_uring is missing or forbidden (old kernels,
// seccomp, kernel.io_uring_disabled) the same calls fall back to read(2) and write(2).
#ifndef TGC_WIRE_URING_H
#define TGC_WIRE_URING_H

#include <stddef.h>
#include <stdint.h>

/* Sets up a ring of `entries` requests; returns 1 with io_uring, 0 when falling back to plain
   system calls (also when asked to, with entries = 0). */
int uring_init(unsigned entries);

/* Room for this many more requests before uring_submit must run. */
unsigned uring_room(void);

void uring_read(int fd, void *buf, size_t len, uint64_t tag);
void uring_write(int fd, const void *buf, size_t len, uint64_t tag);

/* What became of one request: bytes moved or -errno. */
typedef void (*uring_done_fn)(uint64_t tag, int res);

/* Submits what is queued, waits for all of it and reports each in order of completion. */
void uring_submit(uring_done_fn done);

/* From now on plain system calls: for a kernel whose devices refuse io_uring's non-blocking
   reads (EOPNOTSUPP, EINVAL). Call with nothing queued. */
void uring_fall_back(void);

#endif
