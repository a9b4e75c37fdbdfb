// tgc-wire: the userspace wire of the local target in one native process. It holds every
// instance's TUN device, reads each packet from its sender's device, applies the link shape of
// the ordered pair (blocked, loss, duplicate, corrupt, rate, latency with jitter, reorder —
// the same model as runtime/shaping/wire.ts) and writes it to the destination's device, at
// its due time. One process and no sockets in between: what the Node wire and a socat per
// instance did with three hops and ~50 µs of CPU per packet.
//
// Driven by line commands on stdin (runtime/shaping/native-wire.ts):
//   tun NAME IP GROUP [NETNS] create TUN device NAME for an endpoint with data address IP,
//                            inside network namespace NETNS (/var/run/netns/NETNS) when given:
//                            made there, it need not be moved (a move costs the kernel ~20 ms)
//   shape FROM TO FIELDS...  the shape from group FROM to group TO (indices)
//   over ENDPOINT TO FIELDS  the shape from one endpoint to group TO (a mid-run configure)
//   pair SRC DST FIELDS      the shape from endpoint SRC to endpoint DST (a scheduled event:
//                            partition, link change), over everything else
//   unpair SRC               forget SRC's pair shapes
//   stats                    answer with one JSON line of counters
// Fields: lat jit dist loss lossc dup dupc cor corc reo reoc bw blk rej, as key=value
// (rej: a blocked packet's sender is refused with ICMP, refusal.h, instead of hearing nothing)
// (milliseconds, percent, bit/s, 0/1; dist 0 uniform, 1 normal, 2 pareto, 3 paretonormal).
// Every command is answered "ok" or "error MESSAGE". EOF or SIGTERM: exit, devices go.
//
// Speed (bench/wire.ts): the devices take TCP segmentation and checksum offload (offload.h), so
// a bulk transfer crosses in 64 KiB pieces; reads and writes go to the kernel in batches through
// io_uring (uring.h; plain read/write with --no-uring or where io_uring is unavailable).
// Each device holds 4,096 packets for the wire (500 by default), and under a flood the wire
// yields the CPU as the kernel's packet processing does (pace(): SCHED_BATCH, hundreds of
// packets a turn) rather than taking it from the programs for every few packets.
// --no-offload: packets one by one, as a network card without offloads hands them over.
// --busy-poll: no sleep between packets while traffic is light, for the lowest added latency at
// the cost of a core; under a flood it sleeps as the default does (the packets wait anyway).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "offload.h"
#include "refusal.h"
#include "uring.h"

#define MAX_ENDPOINTS 4096
#define MAX_GROUPS 1024
#define MAX_QUEUE_NS 200000000LL /* packets wait at most 200 ms for a rate-limited link */
#define READ_SLOTS 64 /* reads handed to the kernel in one go, over the endpoints with packets */
#define MAX_BATCH 64    /* … of which one endpoint gets at most this many */
#define ARENA (8 << 20) /* copies made for writes in flight (corrupted packets, cut segments) */
#define TAG_WRITE (1ULL << 63)
#define TUN_QUEUE_LEN 4096 /* packets a device holds for the wire (set_queue_len); 32 KiB of kernel memory */

typedef struct {
  double lat, jit, loss, lossc, dup, dupc, cor, corc, reo, reoc, bw;
  int dist, blk, rej, set;
} Shape;

typedef struct Pair {
  int dst;
  Shape shape;
  struct Pair *next;
} Pair;

typedef struct {
  int fd;
  uint32_t ip;
  int group;
  Shape *over; /* per destination group, after a mid-run configure; NULL until then */
  Pair *pairs; /* per destination endpoint, from scheduled events; few, so a list */
} Endpoint;

typedef struct {
  uint64_t key; /* (src + 1) << 32 | dst; 0 = empty */
  int64_t busy_until;
  double loss_rnd, dup_rnd, cor_rnd, reo_rnd;
} Link;

typedef struct {
  int64_t due;
  uint64_t order;
  int dst;
  uint32_t len;
  unsigned char *data; /* the frame: virtio_net_hdr, then the packet */
} Pending;

static Endpoint endpoints[MAX_ENDPOINTS];
static int n_endpoints;
static Shape *group_shapes; /* [MAX_GROUPS * MAX_GROUPS], allocated on first shape */
static Link *links;
static size_t links_cap, links_used;
static Pending *heap;
static size_t heap_len, heap_cap;
static uint64_t heap_order;
static int timer_fd, epoll_fd, home_ns = -1, offloads = 1;
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static struct {
  uint64_t forwarded, blocked, loss, queue, unknown, ipv6, malformed, duplicated, corrupted, overflow;
} stats;
static volatile sig_atomic_t stopping;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64*, a uniform double in [0, 1) */
static double rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

/* netem's correlated random: each draw leans on the last by the correlation */
static double correlated(double *last, double corr_pct) {
  double u = rnd();
  if (corr_pct > 0) u = (corr_pct / 100) * *last + (1 - corr_pct / 100) * u;
  *last = u;
  return u;
}

static double normal(void) {
  double u = 1 - rnd();
  return sqrt(-2 * log(u)) * cos(2 * M_PI * rnd());
}

/* Pareto with shape 3, shifted and scaled to mean 0, standard deviation 1 */
static double pareto(void) {
  const double alpha = 3, mean = alpha / (alpha - 1), sd = sqrt(alpha / ((alpha - 1) * (alpha - 1) * (alpha - 2)));
  return (1 / pow(1 - rnd(), 1 / alpha) - mean) / sd;
}

static double sample(int dist) {
  switch (dist) {
    case 1: return normal();
    case 2: return pareto();
    case 3: return (0.25 * normal() + 0.75 * pareto()) / sqrt(0.25 * 0.25 + 0.75 * 0.75);
    default: return 2 * rnd() - 1;
  }
}

static Link *link_of(int src, int dst) {
  if (links_used * 2 >= links_cap) {
    size_t cap = links_cap ? links_cap * 2 : 1024;
    Link *grown = calloc(cap, sizeof(Link));
    if (!grown) return NULL;
    for (size_t i = 0; i < links_cap; i++) {
      if (!links[i].key) continue;
      size_t h = (links[i].key * 0x9E3779B97F4A7C15ULL) & (cap - 1);
      while (grown[h].key) h = (h + 1) & (cap - 1);
      grown[h] = links[i];
    }
    free(links);
    links = grown;
    links_cap = cap;
  }
  uint64_t key = ((uint64_t)(src + 1) << 32) | (uint32_t)dst;
  size_t h = (key * 0x9E3779B97F4A7C15ULL) & (links_cap - 1);
  while (links[h].key && links[h].key != key) h = (h + 1) & (links_cap - 1);
  if (!links[h].key) {
    links[h].key = key;
    links_used++;
  }
  return &links[h];
}

/* data address → endpoint: open addressing, twice as many slots as endpoints can be */
#define IP_SLOTS (2 * MAX_ENDPOINTS)
static int ip_slot_endpoint[IP_SLOTS]; /* endpoint + 1; 0 = empty */

static size_t ip_slot(uint32_t ip) {
  size_t h = (ip * 2654435761u) & (IP_SLOTS - 1);
  while (ip_slot_endpoint[h] && endpoints[ip_slot_endpoint[h] - 1].ip != ip) h = (h + 1) & (IP_SLOTS - 1);
  return h;
}

static int endpoint_by_ip(uint32_t ip) {
  return ip_slot_endpoint[ip_slot(ip)] - 1;
}

static void heap_push(Pending p) {
  if (heap_len == heap_cap) {
    heap_cap = heap_cap ? heap_cap * 2 : 1024;
    heap = realloc(heap, heap_cap * sizeof(Pending));
  }
  size_t i = heap_len++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap[parent].due < p.due || (heap[parent].due == p.due && heap[parent].order < p.order)) break;
    heap[i] = heap[parent];
    i = parent;
  }
  heap[i] = p;
}

static Pending heap_pop(void) {
  Pending top = heap[0], last = heap[--heap_len];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    const Pending *best = &last;
    if (l < heap_len && (heap[l].due < best->due || (heap[l].due == best->due && heap[l].order < best->order))) m = l, best = &heap[l];
    if (r < heap_len && (heap[r].due < best->due || (heap[r].due == best->due && heap[r].order < best->order))) m = r, best = &heap[r];
    if (m == i) break;
    heap[i] = heap[m];
    i = m;
  }
  if (heap_len > 0) heap[i] = last;
  return top;
}

/* How late the timer wakes us, on average (a sleeping process, a halted virtual CPU: often
   100 µs and more): it is armed that much early, and the rest of the wait is spent polling the
   clock, so held packets leave at their time, not a wake-up later. */
#define MAX_EARLY_NS 500000LL
static int64_t wake_late_ns, armed_at;

static void arm_timer(void) {
  struct itimerspec its = {0};
  armed_at = 0;
  if (heap_len > 0) {
    int64_t due = heap[0].due - wake_late_ns;
    if (due < 1) due = 1;
    armed_at = due;
    its.it_value.tv_sec = due / 1000000000LL;
    its.it_value.tv_nsec = due % 1000000000LL;
  }
  timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Writes in flight: each one's data must stay put until flush() returns. */
static unsigned char *arena;
static size_t arena_used;
static void **owned; /* held packets delivered by the timer, freed after their write */
static size_t owned_len, owned_cap;

static void on_done(uint64_t tag, int res);

static void flush(void) {
  uring_submit(on_done);
  arena_used = 0;
  for (size_t i = 0; i < owned_len; i++) free(owned[i]);
  owned_len = 0;
}

/* Queues the write of a frame to dst's device; `stable` frames outlive the next flush(). */
static void deliver(int dst, const unsigned char *data, size_t len, int stable) {
  if (uring_room() == 0) flush();
  if (!stable) {
    if (arena_used + len > ARENA) flush();
    memcpy(arena + arena_used, data, len);
    data = arena + arena_used;
    arena_used += (len + 15) & ~(size_t)15;
  }
  uring_write(endpoints[dst].fd, data, len, TAG_WRITE);
}

static void deliver_owned(int dst, unsigned char *data, size_t len) {
  if (owned_len == owned_cap) {
    if (owned_len) flush();
    if (!owned_cap) owned = malloc((owned_cap = 1024) * sizeof *owned);
  }
  deliver(dst, data, len, 1);
  owned[owned_len++] = data;
}

static const Shape *shape_of(int src, int dst) {
  static const Shape none = {0};
  int g = endpoints[dst].group;
  for (const Pair *p = endpoints[src].pairs; p; p = p->next)
    if (p->dst == dst) return &p->shape;
  if (endpoints[src].over && endpoints[src].over[g].set) return &endpoints[src].over[g];
  if (!group_shapes) return &none;
  return &group_shapes[endpoints[src].group * MAX_GROUPS + g];
}

/* A super-packet crosses whole unless the link acts on single packets or would hold it > 1 ms. */
static int cut_before(const Shape *s, const unsigned char *frame, size_t len) {
  if (s->loss > 0 || s->dup > 0 || s->cor > 0 || s->reo > 0) return 1;
  return s->bw > 0 && (double)offload_wire_bytes(frame, len) * 8 / s->bw > 1e-3;
}

typedef struct {
  int src, dst;
  const Shape *shape;
  Link *link;
  int64_t now;
  int stable; /* the frame stays put until the next flush() (a read buffer), or not (a cut segment) */
} Hop;

static void forward(const Hop *hop, const unsigned char *frame, size_t len);

static void forward_segment(const unsigned char *frame, size_t len, void *hop) {
  forward(hop, frame, len);
}

/* One frame read from endpoint src's device: a virtio_net_hdr, then the packet. */
static void on_packet(int src, const unsigned char *frame, size_t len, int64_t now, int stable) {
  const unsigned char *buf = frame + VNET_HDR_LEN;
  if (len < VNET_HDR_LEN + 20) {
    stats.malformed++;
    return;
  }
  if (buf[0] >> 4 != 4) {
    stats.ipv6++;
    return;
  }
  uint32_t ip;
  memcpy(&ip, buf + 16, 4);
  int dst = endpoint_by_ip(ntohl(ip));
  if (dst < 0) {
    stats.unknown++;
    return;
  }
  const Shape *s = shape_of(src, dst);
  if (s->blk) {
    if (s->rej) {
      unsigned char answer[REFUSAL_MAX];
      size_t n = refusal_frame(buf, len - VNET_HDR_LEN, answer);
      if (n) deliver(src, answer, n, 0);
    }
    stats.blocked++;
    return;
  }
  Hop hop = {src, dst, s, link_of(src, dst), now, stable};
  if (!hop.link) return;
  if (offload_is_super(frame, len) && cut_before(s, frame, len)) {
    Hop cut = hop;
    cut.stable = 0;
    if (offload_segment(frame, len, forward_segment, &cut) >= 0) return;
  }
  forward(&hop, frame, len);
}

static void forward(const Hop *hop, const unsigned char *frame, size_t len) {
  const Shape *s = hop->shape;
  Link *link = hop->link;
  int dst = hop->dst;
  int64_t now = hop->now;
  if (s->loss > 0 && correlated(&link->loss_rnd, s->lossc) < s->loss / 100) {
    stats.loss++;
    return;
  }
  int copies = 1;
  if (s->dup > 0 && correlated(&link->dup_rnd, s->dupc) < s->dup / 100) {
    copies = 2;
    stats.duplicated++;
  }
  for (int c = 0; c < copies; c++) {
    const unsigned char *data = frame;
    int stable = hop->stable;
    static unsigned char copy[VNET_HDR_LEN + 65536];
    if (s->cor > 0 && correlated(&link->cor_rnd, s->corc) < s->cor / 100) {
      /* one flipped bit past the IP header, where a checksum (TCP, UDP, ICMP) notices — the
         checksum made whole first, or the receiver would trust the "hardware" */
      memcpy(copy, frame, len);
      offload_finish_checksum(copy, len);
      size_t plen = len - VNET_HDR_LEN;
      size_t at = 20 + (size_t)(rnd() * (double)(plen > 20 ? plen - 20 : 1));
      if (at >= plen) at = plen - 1;
      copy[VNET_HDR_LEN + at] ^= (unsigned char)(1u << (int)(rnd() * 8));
      data = copy;
      stable = 0;
      stats.corrupted++;
    }
    int64_t departure = now;
    if (s->bw > 0) {
      int64_t start = link->busy_until > now ? link->busy_until : now;
      if (start - now > MAX_QUEUE_NS) {
        stats.queue++;
        continue;
      }
      departure = start + (int64_t)((double)offload_wire_bytes(frame, len) * 8 * 1e9 / s->bw);
      link->busy_until = departure;
    }
    double delay_ms = 0;
    int reordered = s->reo > 0 && correlated(&link->reo_rnd, s->reoc) < s->reo / 100;
    if (!reordered && s->lat > 0) {
      delay_ms = s->lat + (s->jit > 0 ? s->jit * sample(s->dist) : 0);
      if (delay_ms < 0) delay_ms = 0;
    }
    int64_t due = departure + (int64_t)(delay_ms * 1e6);
    if (due <= now) {
      deliver(dst, data, len, stable);
    } else {
      unsigned char *held = malloc(len);
      if (!held) continue;
      memcpy(held, data, len);
      Pending p = {due, heap_order++, dst, (uint32_t)len, held};
      int was_first = heap_len == 0 || due < heap[0].due;
      heap_push(p);
      if (was_first) arm_timer();
    }
  }
}

static void on_timer(void) {
  uint64_t expirations;
  if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) return;
  int64_t now = now_ns();
  if (armed_at > 0 && now >= armed_at) {
    int64_t late = now - armed_at;
    wake_late_ns += (late - wake_late_ns) / 8;
    if (wake_late_ns > MAX_EARLY_NS) wake_late_ns = MAX_EARLY_NS;
  }
  if (heap_len > 0 && heap[0].due > now && heap[0].due - now <= MAX_EARLY_NS)
    while ((now = now_ns()) < heap[0].due) {
    }
  while (heap_len > 0 && heap[0].due <= now) {
    Pending p = heap_pop();
    deliver_owned(p.dst, p.data, p.len);
  }
  arm_timer();
}

static int parse_shape(char *fields, Shape *s) {
  memset(s, 0, sizeof *s);
  s->set = 1;
  for (char *tok = strtok(fields, " \t\n"); tok; tok = strtok(NULL, " \t\n")) {
    char *eq = strchr(tok, '=');
    if (!eq) return -1;
    *eq = 0;
    double v = strtod(eq + 1, NULL);
    if (!strcmp(tok, "lat")) s->lat = v;
    else if (!strcmp(tok, "jit")) s->jit = v;
    else if (!strcmp(tok, "dist")) s->dist = (int)v;
    else if (!strcmp(tok, "loss")) s->loss = v;
    else if (!strcmp(tok, "lossc")) s->lossc = v;
    else if (!strcmp(tok, "dup")) s->dup = v;
    else if (!strcmp(tok, "dupc")) s->dupc = v;
    else if (!strcmp(tok, "cor")) s->cor = v;
    else if (!strcmp(tok, "corc")) s->corc = v;
    else if (!strcmp(tok, "reo")) s->reo = v;
    else if (!strcmp(tok, "reoc")) s->reoc = v;
    else if (!strcmp(tok, "bw")) s->bw = v;
    else if (!strcmp(tok, "blk")) s->blk = v != 0;
    else if (!strcmp(tok, "rej")) s->rej = v != 0;
    else return -1;
  }
  return 0;
}

/* The device's queue towards the wire (the ring the kernel fills until we read), TUN_QUEUE_LEN
   packets instead of 500: a flood of small packets fills 500 in 3 ms, less than the wire may
   wait for a CPU on a busy machine, and what does not fit is lost. Best effort (a kernel that
   refuses keeps 500). Called in the device's namespace. */
static void set_queue_len(const char *name) {
  struct ifreq ifr = {0};
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  memcpy(ifr.ifr_name, name, strlen(name));
  ifr.ifr_qlen = TUN_QUEUE_LEN;
  if (s >= 0) {
    ioctl(s, SIOCSIFTXQLEN, &ifr);
    close(s);
  }
}

static void command(char *line) {
  char name[IFNAMSIZ + 1], ipText[32];
  int a, b, n;
  char netns[256] = "";
  if (sscanf(line, "tun %16s %31s %d %255s", name, ipText, &a, netns) >= 3) {
    struct in_addr addr;
    if (n_endpoints == MAX_ENDPOINTS || a < 0 || a >= MAX_GROUPS || inet_pton(AF_INET, ipText, &addr) != 1 || strlen(name) >= IFNAMSIZ || strchr(netns, '/')) {
      printf("error bad tun command\n");
      return;
    }
    int ns_fd = -1;
    if (netns[0]) {
      char path[300];
      snprintf(path, sizeof path, "/var/run/netns/%s", netns);
      ns_fd = open(path, O_RDONLY | O_CLOEXEC);
      if (ns_fd < 0 || setns(ns_fd, CLONE_NEWNET) < 0) {
        printf("error %s: %s\n", path, strerror(errno));
        if (ns_fd >= 0) close(ns_fd);
        return;
      }
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    memcpy(ifr.ifr_name, name, strlen(name));
    int made = fd >= 0 && ioctl(fd, TUNSETIFF, &ifr) == 0;
    int saved = errno;
    /* checksums and TCP segmentation left to the receiving end (offload.h); a kernel that
       refuses hands over plain packets, which work the same */
    if (made && (!offloads || ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO_ECN) < 0))
      ioctl(fd, TUNSETOFFLOAD, 0);
    if (made) set_queue_len(name);
    if (ns_fd >= 0) {
      /* back home: the descriptor keeps working wherever this process is */
      setns(home_ns, CLONE_NEWNET);
      close(ns_fd);
    }
    if (!made) {
      printf("error %s: %s\n", name, strerror(saved));
      if (fd >= 0) close(fd);
      return;
    }
    Endpoint *e = &endpoints[n_endpoints];
    e->fd = fd;
    e->ip = ntohl(addr.s_addr);
    e->group = a;
    e->over = NULL;
    e->pairs = NULL;
    ip_slot_endpoint[ip_slot(e->ip)] = n_endpoints + 1;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)n_endpoints};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev);
    n_endpoints++;
    printf("ok\n");
  } else if (sscanf(line, "shape %d %d %n", &a, &b, &n) == 2) {
    if (a < 0 || b < 0 || a >= MAX_GROUPS || b >= MAX_GROUPS) {
      printf("error group out of range\n");
      return;
    }
    if (!group_shapes && !(group_shapes = calloc((size_t)MAX_GROUPS * MAX_GROUPS, sizeof(Shape)))) {
      printf("error out of memory\n");
      return;
    }
    printf(parse_shape(line + n, &group_shapes[a * MAX_GROUPS + b]) ? "error bad field\n" : "ok\n");
  } else if (sscanf(line, "over %d %d %n", &a, &b, &n) == 2) {
    if (a < 0 || a >= n_endpoints || b < 0 || b >= MAX_GROUPS) {
      printf("error endpoint or group out of range\n");
      return;
    }
    if (!endpoints[a].over && !(endpoints[a].over = calloc(MAX_GROUPS, sizeof(Shape)))) {
      printf("error out of memory\n");
      return;
    }
    printf(parse_shape(line + n, &endpoints[a].over[b]) ? "error bad field\n" : "ok\n");
  } else if (sscanf(line, "pair %d %d %n", &a, &b, &n) == 2) {
    if (a < 0 || a >= n_endpoints || b < 0 || b >= n_endpoints) {
      printf("error endpoint out of range\n");
      return;
    }
    Pair *p = endpoints[a].pairs;
    while (p && p->dst != b) p = p->next;
    if (!p) {
      if (!(p = calloc(1, sizeof *p))) {
        printf("error out of memory\n");
        return;
      }
      p->dst = b;
      p->next = endpoints[a].pairs;
      endpoints[a].pairs = p;
    }
    printf(parse_shape(line + n, &p->shape) ? "error bad field\n" : "ok\n");
  } else if (sscanf(line, "addr %d %31s", &a, ipText) == 2) {
    /* an instance moved to another data address: the old one reaches nobody from now on */
    struct in_addr addr;
    if (a < 0 || a >= n_endpoints || inet_pton(AF_INET, ipText, &addr) != 1) {
      printf("error bad addr command\n");
      return;
    }
    int other = endpoint_by_ip(ntohl(addr.s_addr));
    if (other >= 0 && other != a) {
      printf("error %s is endpoint %d's\n", ipText, other);
      return;
    }
    endpoints[a].ip = ntohl(addr.s_addr);
    /* open addressing has no cheap delete: the table is made again (a rare, mid-run command) */
    memset(ip_slot_endpoint, 0, sizeof ip_slot_endpoint);
    for (int i = 0; i < n_endpoints; i++) ip_slot_endpoint[ip_slot(endpoints[i].ip)] = i + 1;
    printf("ok\n");
  } else if (sscanf(line, "unpair %d", &a) == 1) {
    if (a < 0 || a >= n_endpoints) {
      printf("error endpoint out of range\n");
      return;
    }
    while (endpoints[a].pairs) {
      Pair *next = endpoints[a].pairs->next;
      free(endpoints[a].pairs);
      endpoints[a].pairs = next;
    }
    printf("ok\n");
  } else if (!strncmp(line, "stats", 5)) {
    printf("{\"forwarded\":%llu,\"dropped\":{\"blocked\":%llu,\"loss\":%llu,\"queue\":%llu,\"unknown\":%llu,\"ipv6\":%llu,\"malformed\":%llu,\"overflow\":%llu},\"duplicated\":%llu,\"corrupted\":%llu}\n",
           (unsigned long long)stats.forwarded, (unsigned long long)stats.blocked, (unsigned long long)stats.loss, (unsigned long long)stats.queue,
           (unsigned long long)stats.unknown, (unsigned long long)stats.ipv6, (unsigned long long)stats.malformed, (unsigned long long)stats.overflow,
           (unsigned long long)stats.duplicated, (unsigned long long)stats.corrupted);
  } else {
    printf("error unknown command\n");
  }
  fflush(stdout);
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* One round of reads: the slots handed out over the endpoints with packets waiting. */
static unsigned char (*slot_buf)[VNET_HDR_LEN + 65536];
static int slot_res[READ_SLOTS], slot_endpoint[READ_SLOTS];
static int batch[MAX_ENDPOINTS]; /* reads per round for each endpoint: doubles while all bring packets */
static int active[MAX_ENDPOINTS], n_active;
static char is_active[MAX_ENDPOINTS];

static void on_done(uint64_t tag, int res) {
  if (tag & TAG_WRITE) {
    if (res < 0) stats.overflow++;
    else stats.forwarded++;
  } else {
    slot_res[tag] = res;
  }
}

/* Under a flood the wire gives way as the kernel's own packet processing does (NAPI, then
   ksoftirqd): woken for every few packets, it would take the CPU from the sender or the receiver
   each time (two task switches a packet); as SCHED_BATCH it waits for their turn to end and reads
   hundreds at once, and with --busy-poll it stops spinning (the packets are there when it looks).
   Below the rate it is an ordinary task again, woken at once or spinning. */
#define LOAD_WINDOW_NS 10000000LL
#define LOAD_PACKETS 200 /* in a window: 20,000 packets/s */
static int64_t window_start;
static uint64_t window_packets;
static int loaded, batched;

static void pace(int64_t now) {
  int64_t span = now - window_start;
  if (span < LOAD_WINDOW_NS) return;
  loaded = (double)window_packets * LOAD_WINDOW_NS >= (double)LOAD_PACKETS * (double)span; /* the rate since */
  struct sched_param none = {0};
  if (loaded != batched && sched_setscheduler(0, loaded ? SCHED_BATCH : SCHED_OTHER, &none) == 0) batched = loaded;
  window_start = now;
  window_packets = 0;
}

/* Reads what the active endpoints hold, a few rounds at a time (then the timer and the commands
   get their turn: a flood must not hold back delayed packets or a partition), and forwards it. */
static void drain(void) {
  for (int round = 0; round < 8 && n_active > 0; round++) {
    int slots = 0, served = 0;
    for (; served < n_active && slots < READ_SLOTS; served++) {
      int e = active[served];
      if (!batch[e]) batch[e] = 4;
      for (int k = 0; k < batch[e] && slots < READ_SLOTS; k++, slots++) {
        slot_endpoint[slots] = e;
        uring_read(endpoints[e].fd, slot_buf[slots], sizeof slot_buf[0], (uint64_t)slots);
      }
    }
    uring_submit(on_done);
    int64_t now = now_ns();
    pace(now);
    /* an endpoint stays active while every read it was given brought a packet */
    int refused = 0;
    for (int i = 0; i < slots; i++) {
      int e = slot_endpoint[i];
      if (slot_res[i] > 0) {
        on_packet(e, slot_buf[i], (size_t)slot_res[i], now, 1);
        window_packets++;
      } else if (slot_res[i] == -EOPNOTSUPP || slot_res[i] == -EINVAL) {
        refused = 1; /* the device takes no non-blocking reads from io_uring: read it plainly */
      } else {
        is_active[e] = 0;
      }
    }
    if (refused) {
      flush();
      uring_fall_back();
    }
    int kept = 0;
    for (int i = 0; i < served; i++) {
      int e = active[i];
      if (is_active[e]) {
        if (batch[e] < MAX_BATCH) batch[e] *= 2;
        active[kept++] = e;
      } else if (batch[e] > 4) {
        batch[e] /= 2;
      }
    }
    /* the endpoints not reached this round keep their turn */
    memmove(active + kept, active + served, (size_t)(n_active - served) * sizeof *active);
    n_active = kept + (n_active - served);
    flush(); /* the writes, before the read buffers are used again */
  }
}

int main(int argc, char **argv) {
  int busy_poll = 0, plain = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--busy-poll")) busy_poll = 1;
    else if (!strcmp(argv[i], "--no-uring")) plain = 1;
    else if (!strcmp(argv[i], "--no-offload")) offloads = 0;
    else {
      fprintf(stderr, "tgc-wire: unknown option %s (--busy-poll, --no-uring, --no-offload)\n", argv[i]);
      return 2;
    }
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  rng_state ^= (uint64_t)now_ns() * 0x2545F4914F6CDD1DULL;
  home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  uring_init(plain ? 0 : 4 * READ_SLOTS);
  slot_buf = malloc(READ_SLOTS * sizeof slot_buf[0]);
  arena = malloc(ARENA);
  if (!slot_buf || !arena) return 1;
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0xFFFFFFFEu};
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, 0, &ev);
  ev.data.u32 = 0xFFFFFFFFu;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &ev);
  static char input[1 << 20];
  size_t input_len = 0;
  struct epoll_event events[64];
  while (!stopping) {
    /* --busy-poll: no sleep while traffic is light. Waking a sleeping process (a halted virtual
       CPU, often) costs tens of microseconds per packet; polling costs a core */
    if (n_active == 0) pace(now_ns());
    int n = epoll_wait(epoll_fd, events, 64, (busy_poll && !loaded) || n_active > 0 ? 0 : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int k = 0; k < n; k++) {
      uint32_t id = events[k].data.u32;
      if (id == 0xFFFFFFFFu) {
        on_timer();
        flush();
      } else if (id == 0xFFFFFFFEu) {
        ssize_t got = read(0, input + input_len, sizeof input - 1 - input_len);
        if (got == 0) return 0; /* the driver is gone: so are we, and the devices with us */
        if (got < 0) continue;
        input_len += (size_t)got;
        char *start = input, *nl;
        while ((nl = memchr(start, '\n', input_len - (size_t)(start - input)))) {
          *nl = 0;
          command(start);
          start = nl + 1;
        }
        input_len -= (size_t)(start - input);
        memmove(input, start, input_len);
      } else if (!is_active[id]) {
        is_active[id] = 1;
        active[n_active++] = (int)id;
      }
    }
    drain();
  }
  return 0;
}
