// The answer a refused packet gets (a Testground `Reject` rule): ICMP "destination unreachable,
// communication administratively prohibited" from the refused destination back to the sender,
// whose kernel then fails its connect or send at once. The Node wire's twin is
// runtime/shaping/icmp-refusal.ts.
#ifndef TGC_WIRE_REFUSAL_H
#define TGC_WIRE_REFUSAL_H

#include <stddef.h>

/* Room a refusal frame needs: a virtio_net_hdr, IP and ICMP headers, and the quoted packet's start. */
#define REFUSAL_MAX 128

/*
 * Writes into `out` (REFUSAL_MAX bytes) the frame refusing IPv4 packet `pkt`: a zeroed
 * virtio_net_hdr, then the ICMP error. Returns its length, or 0 where none is due (a packet too
 * short, a later fragment, an ICMP error itself).
 */
size_t refusal_frame(const unsigned char *pkt, size_t len, unsigned char *out);

#endif
