#include "refusal.h"

#include <string.h>

#include "offload.h"

size_t refusal_frame(const unsigned char *pkt, size_t len, unsigned char *out) {
  if (len < 20 || pkt[0] >> 4 != 4) return 0;
  size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
  if (ihl < 20 || len < ihl) return 0;
  /* Never about a fragment past the first, nor about an ICMP error (RFC 1122 3.2.2). */
  if (((pkt[6] << 8 | pkt[7]) & 0x1fff) != 0) return 0;
  if (pkt[9] == 1 && len > ihl) {
    unsigned char type = pkt[ihl];
    if (type != 0 && type != 8 && type != 13 && type != 15 && type != 17) return 0;
  }
  size_t quote = len < ihl + 8 ? len : ihl + 8;
  size_t total = 20 + 8 + quote;
  if (VNET_HDR_LEN + total > REFUSAL_MAX) return 0;
  memset(out, 0, VNET_HDR_LEN + 28);
  unsigned char *ip = out + VNET_HDR_LEN;
  ip[0] = 0x45;
  ip[2] = (unsigned char)(total >> 8);
  ip[3] = (unsigned char)total;
  ip[8] = 64;              /* TTL */
  ip[9] = 1;               /* ICMP */
  memcpy(ip + 12, pkt + 16, 4); /* from the refused destination… */
  memcpy(ip + 16, pkt + 12, 4); /* …back to the sender */
  uint16_t sum = offload_checksum(ip, 20);
  ip[10] = (unsigned char)(sum >> 8);
  ip[11] = (unsigned char)sum;
  unsigned char *icmp = ip + 20;
  icmp[0] = 3;  /* destination unreachable */
  icmp[1] = 13; /* communication administratively prohibited */
  memcpy(icmp + 8, pkt, quote);
  sum = offload_checksum(icmp, 8 + quote);
  icmp[2] = (unsigned char)(sum >> 8);
  icmp[3] = (unsigned char)sum;
  return VNET_HDR_LEN + total;
}
