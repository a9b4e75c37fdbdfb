import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { parseIpv4 } from '../../model/ipv4.js';
import type { LinkShape } from '../../schema/ir.js';
import { refusal } from './icmp-refusal.js';
import { Scheduler } from './scheduler.js';

/**
 * The userspace wire: every instance's data interface is a TUN device whose packets arrive
 * here as UDP datagrams (one IPv4 packet each, from the instance's own port). The wire looks
 * up the destination by its IPv4 address, applies the link shape of that ordered pair —
 * blocking, loss, duplication, corruption, rate, latency with jitter, reordering — and sends
 * the packet on to the destination's port. IPv6 and packets to unknown addresses are dropped
 * (and counted).
 */
export interface WireEndpoint {
  readonly name: string;
  /** The instance's data address (IPv4, dotted). */
  readonly ip: string;
  /** The UDP port its TUN bridge sends from and listens on. */
  readonly port: number;
  /** The bridge's host (IPv4). @default "127.0.0.1" */
  readonly host?: string;
  /**
   * On another host's wire (`host:port` is that wire's peer socket): packets to it are shaped
   * here, then handed over to be delivered there as they are.
   */
  readonly remote?: boolean;
}

export interface WireOptions {
  /** The shape of traffic from one instance to another (already merged); called once per pair, cached. */
  readonly shapeOf: (from: string, to: string) => LinkShape;
  /** @default Math.random */
  readonly random?: () => number;
}

export interface WireStats {
  forwarded: number;
  dropped: { blocked: number; loss: number; queue: number; unknown: number; ipv6: number; malformed: number };
  duplicated: number;
  corrupted: number;
}

interface LinkState {
  shape: LinkShape;
  /** When the link's transmitter is next free (ms, performance.now clock): the rate limiter. */
  busyUntil: number;
  lossRnd: number;
  dupRnd: number;
  corruptRnd: number;
  reorderRnd: number;
}

/** Packets may wait this long for a rate-limited link before they are tail-dropped. */
const MAX_QUEUE_MS = 200;

export class Wire {
  readonly stats: WireStats = {
    forwarded: 0,
    dropped: { blocked: 0, loss: 0, queue: 0, unknown: 0, ipv6: 0, malformed: 0 },
    duplicated: 0,
    corrupted: 0,
  };
  private readonly socket: UdpSocket = createSocket({
    type: 'udp4',
    recvBufferSize: 8 * 1024 * 1024,
    sendBufferSize: 8 * 1024 * 1024,
  });
  /** Other hosts' wires (swarm): packets between hosts, already shaped by the sender's wire. */
  private peers: UdpSocket | undefined;
  private readonly peerHosts = new Set<string>();
  private readonly byAddress = new Map<string, WireEndpoint>();
  /** Each endpoint's `host:port`, by name (an endpoint added again moves). */
  private readonly addressOf = new Map<string, string>();
  private readonly byIp = new Map<number, WireEndpoint>();
  /** Each endpoint's data address, by name. */
  private readonly ipOf = new Map<string, number>();
  private readonly links = new Map<string, LinkState>();
  private readonly scheduler = new Scheduler();
  private readonly random: () => number;

  constructor(private readonly options: WireOptions) {
    this.random = options.random ?? Math.random;
    this.socket.on('message', (packet, from) => this.onPacket(packet, `${from.address}:${from.port}`));
    this.socket.on('error', () => undefined);
  }

  /** Binds the wire's port (on loopback unless `host` says otherwise); resolves to it. */
  listen(port = 0, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(port, host, () => {
        this.socket.off('error', reject);
        resolve(this.socket.address().port);
      });
    });
  }

  /**
   * Binds the socket other hosts' wires send to (every address, `port`): what arrives there from
   * a known peer is delivered to the local endpoint it is addressed to, unshaped (its sender
   * shaped it). Resolves to the port.
   */
  listenPeers(port: number): Promise<number> {
    const peers = createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024, sendBufferSize: 8 * 1024 * 1024 });
    this.peers = peers;
    peers.on('message', (packet, from) => {
      if (!this.peerHosts.has(from.address) || packet.length < 20) return void this.stats.dropped.malformed++;
      const dst = this.byIp.get(packet.readUInt32BE(16));
      if (!dst || dst.remote) return void this.stats.dropped.unknown++;
      this.deliver(packet, dst);
    });
    return new Promise((resolve, reject) => {
      peers.once('error', reject);
      peers.bind(port, () => {
        peers.off('error', reject);
        peers.on('error', () => undefined);
        resolve(peers.address().port);
      });
    });
  }

  /**
   * Adds an endpoint, or moves one known by name (a restarted container's bridge, an instance
   * moved to another data address: its old one then reaches nobody).
   */
  add(endpoint: WireEndpoint): void {
    const earlier = this.addressOf.get(endpoint.name);
    if (earlier !== undefined) this.byAddress.delete(earlier);
    const ip = parseIpv4(endpoint.ip);
    const before = this.ipOf.get(endpoint.name);
    if (before !== undefined && before !== ip && this.byIp.get(before)?.name === endpoint.name)
      this.byIp.delete(before);
    this.ipOf.set(endpoint.name, ip);
    const address = `${endpoint.host ?? '127.0.0.1'}:${endpoint.port}`;
    this.addressOf.set(endpoint.name, address);
    // A remote endpoint's packets reach this wire from its own (the peer socket), never here.
    if (endpoint.remote) this.peerHosts.add(endpoint.host ?? '127.0.0.1');
    else this.byAddress.set(address, endpoint);
    this.byIp.set(ip, endpoint);
  }

  /** Forgets cached shapes (after a mid-run `configure`); queued packets keep theirs. */
  reshape(from?: string): void {
    for (const [key, state] of this.links) {
      const [src, dst] = key.split('\0') as [string, string];
      if (from === undefined || src === from) state.shape = this.options.shapeOf(src, dst);
    }
  }

  close(): void {
    this.scheduler.clear();
    this.socket.close();
    this.peers?.close();
  }

  private link(src: WireEndpoint, dst: WireEndpoint): LinkState {
    const key = `${src.name}\0${dst.name}`;
    let state = this.links.get(key);
    if (!state) {
      state = {
        shape: this.options.shapeOf(src.name, dst.name),
        busyUntil: 0,
        lossRnd: 0,
        dupRnd: 0,
        corruptRnd: 0,
        reorderRnd: 0,
      };
      this.links.set(key, state);
    }
    return state;
  }

  private onPacket(packet: Buffer, from: string): void {
    const src = this.byAddress.get(from);
    if (!src || packet.length < 20) return void this.stats.dropped.malformed++;
    if (packet[0]! >> 4 !== 4) return void this.stats.dropped.ipv6++;
    const dst = this.byIp.get(packet.readUInt32BE(16));
    if (!dst) return void this.stats.dropped.unknown++;
    const link = this.link(src, dst);
    const s = link.shape;
    if (s.blocked) {
      // Refused (not silently dropped): the sender is told at once.
      const answer = s.refused ? refusal(packet) : undefined;
      if (answer) this.deliver(answer, src);
      return void this.stats.dropped.blocked++;
    }
    if (s.lossPct && (link.lossRnd = this.correlated(link.lossRnd, s.lossCorrelationPct)) < s.lossPct / 100)
      return void this.stats.dropped.loss++;
    let copies = 1;
    if (
      s.duplicatePct &&
      (link.dupRnd = this.correlated(link.dupRnd, s.duplicateCorrelationPct)) < s.duplicatePct / 100
    ) {
      copies = 2;
      this.stats.duplicated++;
    }
    for (let i = 0; i < copies; i++) {
      let data = packet;
      if (
        s.corruptPct &&
        (link.corruptRnd = this.correlated(link.corruptRnd, s.corruptCorrelationPct)) < s.corruptPct / 100
      ) {
        // One flipped bit past the IP header, where a checksum (TCP, UDP, ICMP) will notice.
        data = Buffer.from(packet);
        const at = Math.min(data.length - 1, 20 + Math.floor(this.random() * Math.max(1, data.length - 20)));
        data[at]! ^= 1 << Math.floor(this.random() * 8);
        this.stats.corrupted++;
      }
      const now = performance.now();
      let departure = now;
      if (s.bandwidthBps) {
        const start = Math.max(now, link.busyUntil);
        if (start - now > MAX_QUEUE_MS) {
          this.stats.dropped.queue++;
          continue;
        }
        departure = start + (data.length * 8 * 1000) / s.bandwidthBps;
        link.busyUntil = departure;
      }
      let delay = 0;
      const reordered =
        s.reorderPct !== undefined &&
        s.reorderPct > 0 &&
        (link.reorderRnd = this.correlated(link.reorderRnd, s.reorderCorrelationPct)) < s.reorderPct / 100;
      if (!reordered && s.latencyMs)
        delay = Math.max(0, s.latencyMs + (s.jitterMs ? s.jitterMs * this.sample(s.distribution) : 0));
      const due = departure + delay;
      if (due <= now) this.deliver(data, dst);
      else this.scheduler.at(due, () => this.deliver(data, dst));
    }
  }

  private deliver(data: Buffer, to: WireEndpoint): void {
    this.stats.forwarded++;
    (to.remote ? this.peers! : this.socket).send(data, to.port, to.host ?? '127.0.0.1');
  }

  /** netem's correlated random: each draw leans on the last by the correlation. */
  private correlated(last: number, correlationPct: number | undefined): number {
    const u = this.random();
    if (!correlationPct) return u;
    const c = correlationPct / 100;
    return c * last + (1 - c) * u;
  }

  /** A zero-mean, unit-spread sample of the jitter distribution (uniform when none is named, as netem). */
  private sample(distribution: LinkShape['distribution']): number {
    switch (distribution) {
      case 'normal':
        return this.normal();
      case 'pareto':
        return this.pareto();
      case 'paretonormal':
        return (0.25 * this.normal() + 0.75 * this.pareto()) / Math.sqrt(0.25 ** 2 + 0.75 ** 2);
      default:
        return 2 * this.random() - 1;
    }
  }

  private normal(): number {
    const u = 1 - this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.random());
  }

  /** Pareto with shape 3, shifted and scaled to mean 0 and standard deviation 1: a long right tail. */
  private pareto(): number {
    const alpha = 3;
    const x = 1 / Math.pow(1 - this.random(), 1 / alpha); // xm = 1
    const mean = alpha / (alpha - 1);
    const sd = Math.sqrt(alpha / ((alpha - 1) ** 2 * (alpha - 2)));
    return (x - mean) / sd;
  }
}
