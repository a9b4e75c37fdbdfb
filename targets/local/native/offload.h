// What the wire does with the kernel's offloads: TUN devices opened with IFF_VNET_HDR and
// TCP segmentation offload hand the wire whole TCP segments of up to 64 KiB (a "super-packet"
// the size of a sender's write, with a virtio_net_hdr saying how to cut it) and take them
// back whole, so a bulk transfer crosses the wire in ~40 times fewer reads and writes. Where a
// link's shape acts on single packets (loss, duplication, corruption, reordering, a slow
// rate), the wire cuts the super-packet here first, as a network card would.
#ifndef TGC_WIRE_OFFLOAD_H
#define TGC_WIRE_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define VNET_HDR_LEN sizeof(struct virtio_net_hdr)

/* One packet as the wire holds it: the virtio_net_hdr, then the IPv4 packet. */
typedef void (*segment_fn)(const unsigned char *frame, size_t len, void *ctx);

/* Whether the frame carries a TCPv4 super-packet to be cut at its gso_size. */
int offload_is_super(const unsigned char *frame, size_t len);

/* How many bytes the packets cut from this frame would take on a wire (IP headers included). */
size_t offload_wire_bytes(const unsigned char *frame, size_t len);

/*
 * Cuts a TCPv4 super-packet into packets of gso_size payload bytes with whole headers and
 * checksums (sequence numbers, IP ids, flags as TSO sets them), each passed to `emit` as a
 * frame of its own. Returns how many, or -1 for a frame it cannot cut (left alone).
 */
int offload_segment(const unsigned char *frame, size_t len, segment_fn emit, void *ctx);

/*
 * Completes a checksum the sender left to the "hardware" (VIRTIO_NET_HDR_F_NEEDS_CSUM), so
 * that a bit flipped afterwards is caught by the receiver as on a real wire.
 */
void offload_finish_checksum(unsigned char *frame, size_t len);

/* The Internet checksum (RFC 1071) of n bytes whose checksum field is zero. */
uint16_t offload_checksum(const unsigned char *p, size_t n);

#endif
