// The wire's side of the kernel's offloads (offload.h): cutting TCPv4 super-packets, counting
// their bytes as a real wire would carry them, completing checksums left to the "hardware".
#include "offload.h"

#include <stdint.h>
#include <string.h>

static uint16_t be16(const unsigned char *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v; }
static void put32(unsigned char *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)), put16(p + 2, (uint16_t)v); }

/* The ones' complement sum of RFC 1071, carried in 64 bits and folded at the end. */
static uint64_t sum16(const unsigned char *p, size_t n, uint64_t acc) {
  for (; n > 1; p += 2, n -= 2) acc += be16(p);
  if (n) acc += (uint64_t)p[0] << 8;
  return acc;
}

static uint16_t fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return (uint16_t)~acc;
}

uint16_t offload_checksum(const unsigned char *p, size_t n) { return fold(sum16(p, n, 0)); }

typedef struct {
  const unsigned char *ip; /* the IPv4 header */
  size_t len, ihl, hl, mss; /* packet length, IP header, IP + TCP headers, payload per packet */
} Super;

static int parse_super(const unsigned char *frame, size_t len, Super *s) {
  const struct virtio_net_hdr *h = (const void *)frame;
  if (len < VNET_HDR_LEN + 40 || (h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_TCPV4 || !h->gso_size) return -1;
  s->ip = frame + VNET_HDR_LEN;
  s->len = len - VNET_HDR_LEN;
  s->ihl = (size_t)(s->ip[0] & 15) * 4;
  if (s->ip[0] >> 4 != 4 || s->ihl < 20 || s->ip[9] != 6 || s->len < s->ihl + 20) return -1;
  s->hl = s->ihl + (size_t)(s->ip[s->ihl + 12] >> 4) * 4;
  s->mss = h->gso_size;
  return s->hl >= s->ihl + 20 && s->len > s->hl ? 0 : -1;
}

int offload_is_super(const unsigned char *frame, size_t len) {
  return len >= VNET_HDR_LEN && ((const struct virtio_net_hdr *)frame)->gso_type != VIRTIO_NET_HDR_GSO_NONE;
}

size_t offload_wire_bytes(const unsigned char *frame, size_t len) {
  Super s;
  if (parse_super(frame, len, &s) < 0) return len > VNET_HDR_LEN ? len - VNET_HDR_LEN : 0;
  size_t packets = (s.len - s.hl + s.mss - 1) / s.mss;
  return s.len + (packets - 1) * s.hl;
}

int offload_segment(const unsigned char *frame, size_t len, segment_fn emit, void *ctx) {
  static unsigned char out[VNET_HDR_LEN + 65536];
  Super s;
  if (parse_super(frame, len, &s) < 0) return -1;
  const unsigned char *tcp = s.ip + s.ihl;
  uint32_t seq = be32(tcp + 4);
  uint16_t id = be16(s.ip + 4);
  unsigned char flags = tcp[13];
  size_t payload = s.len - s.hl;
  unsigned char *q = out + VNET_HDR_LEN;
  memset(out, 0, VNET_HDR_LEN); /* a plain packet, its checksums whole */
  int n = 0;
  for (size_t off = 0; off < payload; off += s.mss, n++) {
    size_t chunk = payload - off < s.mss ? payload - off : s.mss, total = s.hl + chunk;
    memcpy(q, s.ip, s.hl);
    memcpy(q + s.hl, s.ip + s.hl + off, chunk);
    put16(q + 2, (uint16_t)total);
    put16(q + 4, (uint16_t)(id + n)); /* TSO numbers each packet's IP id in turn */
    put16(q + 10, 0);
    put16(q + 10, fold(sum16(q, s.ihl, 0)));
    unsigned char *t = q + s.ihl;
    put32(t + 4, seq + (uint32_t)off);
    /* FIN and PSH belong to the last packet only, CWR to the first only */
    t[13] = (unsigned char)(flags & (off + chunk < payload ? ~0x09 : 0xff) & (n > 0 ? ~0x80 : 0xff));
    put16(t + 16, 0);
    uint64_t pseudo = sum16(q + 12, 8, 0) + 6 + (total - s.ihl);
    put16(t + 16, fold(sum16(t, total - s.ihl, pseudo)));
    emit(out, VNET_HDR_LEN + total, ctx);
  }
  return n;
}

void offload_finish_checksum(unsigned char *frame, size_t len) {
  struct virtio_net_hdr *h = (void *)frame;
  if (len < VNET_HDR_LEN || !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) return;
  unsigned char *p = frame + VNET_HDR_LEN;
  size_t plen = len - VNET_HDR_LEN, start = h->csum_start, at = start + h->csum_offset;
  if (at + 2 > plen) return;
  /* the field holds the pseudo-header's sum already: the sum over the rest completes it */
  uint16_t c = fold(sum16(p + start, plen - start, 0));
  put16(p + at, c ? c : 0xffff);
  h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_NEEDS_CSUM;
}
