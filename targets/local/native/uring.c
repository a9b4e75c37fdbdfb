// io_uring without liburing (uring.h): the three system calls and the two shared rings.
#define _GNU_SOURCE
#include "uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static struct {
  int fd;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  unsigned entries, queued;
} ring = {.fd = -1};

/* Without a ring: what was asked, done at uring_submit. */
typedef struct {
  int fd, write;
  void *buf;
  size_t len;
  uint64_t tag;
} Plain;
static Plain *plain;

int uring_init(unsigned entries) {
  struct io_uring_params p;
  int fd = -1;
  /* single issuer, task work deferred to our own io_uring_enter: the cheapest set-up; older
     kernels refuse the flags, so ask again without them */
  const unsigned flag_sets[] = {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_COOP_TASKRUN, 0};
  for (size_t i = 0; entries > 0 && i < sizeof flag_sets / sizeof *flag_sets && fd < 0; i++) {
    memset(&p, 0, sizeof p);
    p.flags = flag_sets[i];
    fd = (int)syscall(__NR_io_uring_setup, entries, &p);
  }
  ring.entries = entries;
  if (fd >= 0 && (p.features & IORING_FEAT_SINGLE_MMAP)) {
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t len = sq_len > cq_len ? sq_len : cq_len;
    unsigned char *rings = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    void *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                      IORING_OFF_SQES);
    if (rings != MAP_FAILED && sqes != MAP_FAILED) {
      ring.fd = fd;
      ring.sq_head = (unsigned *)(rings + p.sq_off.head);
      ring.sq_tail = (unsigned *)(rings + p.sq_off.tail);
      ring.sq_mask = (unsigned *)(rings + p.sq_off.ring_mask);
      ring.sq_array = (unsigned *)(rings + p.sq_off.array);
      ring.cq_head = (unsigned *)(rings + p.cq_off.head);
      ring.cq_tail = (unsigned *)(rings + p.cq_off.tail);
      ring.cq_mask = (unsigned *)(rings + p.cq_off.ring_mask);
      ring.cqes = (struct io_uring_cqe *)(rings + p.cq_off.cqes);
      ring.sqes = sqes;
      ring.entries = p.sq_entries;
      return 1;
    }
  }
  if (fd >= 0) close(fd);
  ring.entries = entries > 0 ? entries : 256;
  plain = calloc(ring.entries, sizeof *plain);
  return 0;
}

void uring_fall_back(void) {
  if (ring.fd < 0) return;
  close(ring.fd);
  ring.fd = -1;
  plain = calloc(ring.entries, sizeof *plain);
}

unsigned uring_room(void) {
  return ring.entries - ring.queued;
}

static void queue(int fd, int write, void *buf, size_t len, uint64_t tag) {
  if (ring.fd < 0) {
    plain[ring.queued++] = (Plain){fd, write, buf, len, tag};
    return;
  }
  unsigned tail = *ring.sq_tail, at = tail & *ring.sq_mask;
  struct io_uring_sqe *sqe = &ring.sqes[at];
  memset(sqe, 0, sizeof *sqe);
  sqe->opcode = write ? IORING_OP_WRITE : IORING_OP_READ;
  sqe->fd = fd;
  sqe->addr = (uint64_t)(uintptr_t)buf;
  sqe->len = (unsigned)len;
  sqe->off = (uint64_t)-1; /* the file's own position: a TUN device has none */
  sqe->user_data = tag;
  /* EAGAIN instead of waiting for data: newer kernels wait on pollable files despite
     O_NONBLOCK */
  sqe->rw_flags = RWF_NOWAIT;
  ring.sq_array[at] = at;
  __atomic_store_n(ring.sq_tail, tail + 1, __ATOMIC_RELEASE);
  ring.queued++;
}

void uring_read(int fd, void *buf, size_t len, uint64_t tag) {
  queue(fd, 0, buf, len, tag);
}

void uring_write(int fd, const void *buf, size_t len, uint64_t tag) {
  queue(fd, 1, (void *)buf, len, tag);
}

void uring_submit(uring_done_fn done) {
  unsigned n = ring.queued;
  ring.queued = 0;
  if (n == 0) return;
  if (ring.fd < 0) {
    for (unsigned i = 0; i < n; i++) {
      Plain *q = &plain[i];
      ssize_t r = q->write ? write(q->fd, q->buf, q->len) : read(q->fd, q->buf, q->len);
      done(q->tag, r < 0 ? -errno : (int)r);
    }
    return;
  }
  unsigned seen = 0, unsubmitted = n;
  while (seen < n) {
    int r = (int)syscall(__NR_io_uring_enter, ring.fd, unsubmitted, n - seen, IORING_ENTER_GETEVENTS, NULL, 0);
    if (r >= 0) unsubmitted -= (unsigned)r < unsubmitted ? (unsigned)r : unsubmitted;
    else if (errno != EINTR && errno != EAGAIN && errno != EBUSY) break;
    unsigned head = *ring.cq_head, tail = __atomic_load_n(ring.cq_tail, __ATOMIC_ACQUIRE);
    for (; head != tail; head++, seen++) {
      struct io_uring_cqe *c = &ring.cqes[head & *ring.cq_mask];
      done(c->user_data, c->res);
    }
    __atomic_store_n(ring.cq_head, head, __ATOMIC_RELEASE);
  }
}
