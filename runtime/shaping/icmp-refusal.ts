// The answer a refused packet gets (a Testground `Reject` rule): ICMP "destination unreachable,
// communication administratively prohibited" (type 3, code 13), as a router's `prohibit` route
// sends it. The sender's kernel fails its connect or send at once (EHOSTUNREACH) instead of
// waiting, which is what tells a refusal from a silent drop.

/** The ICMP error that refuses `packet` (an IPv4 packet), from its destination back to its source. */
export function refusal(packet: Buffer): Buffer | undefined {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) return undefined;
  const ihl = (packet[0]! & 0x0f) * 4;
  if (ihl < 20 || packet.length < ihl) return undefined;
  // Never about a fragment past the first, nor about an ICMP error (RFC 1122 3.2.2).
  if ((packet.readUInt16BE(6) & 0x1fff) !== 0) return undefined;
  if (packet[9] === 1 && packet.length > ihl && ![0, 8, 13, 15, 17].includes(packet[ihl]!)) return undefined;
  const quote = packet.subarray(0, Math.min(packet.length, ihl + 8));
  const out = Buffer.alloc(20 + 8 + quote.length);
  out[0] = 0x45;
  out.writeUInt16BE(out.length, 2);
  out[8] = 64; // TTL
  out[9] = 1; // ICMP
  packet.copy(out, 12, 16, 20); // from the refused destination…
  packet.copy(out, 16, 12, 16); // …back to the sender
  out.writeUInt16BE(checksum(out.subarray(0, 20)), 10);
  out[20] = 3; // destination unreachable
  out[21] = 13; // communication administratively prohibited
  quote.copy(out, 28);
  out.writeUInt16BE(checksum(out.subarray(20)), 22);
  return out;
}

/** The Internet checksum (RFC 1071) of `data`, its checksum field zero. */
function checksum(data: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
