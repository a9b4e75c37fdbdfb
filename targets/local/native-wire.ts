import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LinkShape } from '../../schema/ir.js';
import { onLines } from '../../protocol/on-lines.js';

const DISTRIBUTIONS = { uniform: 0, normal: 1, pareto: 2, paretonormal: 3 } as const;

/** The native wire (`targets/local/native/tgc-wire.c`, built to dist/native/tgc-wire), if this install has it. */
export function nativeWireBinary(): string | undefined {
  for (const rel of ['./native/tgc-wire', '../native/tgc-wire', '../../dist/native/tgc-wire']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** A link shape as the native wire's `key=value` fields. */
export function shapeFields(s: LinkShape): string {
  const f: [string, number | undefined][] = [
    ['lat', s.latencyMs],
    ['jit', s.jitterMs],
    ['dist', s.distribution === undefined ? undefined : DISTRIBUTIONS[s.distribution]],
    ['loss', s.lossPct],
    ['lossc', s.lossCorrelationPct],
    ['dup', s.duplicatePct],
    ['dupc', s.duplicateCorrelationPct],
    ['cor', s.corruptPct],
    ['corc', s.corruptCorrelationPct],
    ['reo', s.reorderPct],
    ['reoc', s.reorderCorrelationPct],
    ['bw', s.bandwidthBps],
    ['blk', s.blocked === undefined ? undefined : s.blocked ? 1 : 0],
    ['rej', s.refused ? 1 : 0],
  ];
  return f
    .filter(([, v]) => v !== undefined && v !== 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

export interface NativeWireOptions {
  /** Never sleep between packets (`--busy-poll`): less latency, one core busy. @default false */
  readonly busyPoll?: boolean;
  /**
   * Reads and writes in batches through io_uring; false: one read(2)/write(2) each, what a kernel
   * without io_uring (or a seccomp profile that forbids it) gets anyway. @default true
   */
  readonly uring?: boolean;
  /** TCP segmentation and checksum offload on the devices; false: packets one at a time. @default true */
  readonly offload?: boolean;
}

/** What the native wire counts, in the Node wire's shape. */
export interface NativeWireStats {
  forwarded: number;
  dropped: Record<string, number>;
  duplicated: number;
  corrupted: number;
}

/**
 * The native wire process: it creates the TUN devices (in this namespace; the caller moves
 * them), takes group-to-group shapes and per-endpoint overrides, and forwards. Commands are
 * answered in order, one line each.
 */
export class NativeWire {
  private readonly waiting: ((line: string) => void)[] = [];
  private exited = false;
  private stderr = '';

  private constructor(
    readonly process: Pick<
      ChildProcess,
      'exitCode' | 'signalCode' | 'pid' | 'once' | 'stdin' | 'stdout' | 'stderr' | 'kill'
    >,
  ) {
    onLines(process.stdout!, (line) => this.waiting.shift()?.(line));
    process.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    process.once('exit', () => {
      this.exited = true;
      for (const w of this.waiting.splice(0))
        w(`error the native wire exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`);
    });
  }

  static start(binary: string, options: NativeWireOptions = {}): NativeWire {
    const args = [
      ...(options.busyPoll ? ['--busy-poll'] : []),
      ...(options.uring === false ? ['--no-uring'] : []),
      ...(options.offload === false ? ['--no-offload'] : []),
    ];
    return new NativeWire(execa(binary, args, { buffer: false, reject: false }));
  }

  private command(line: string): Promise<string> {
    if (this.exited)
      return Promise.reject(new Error(`the native wire exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    return new Promise((resolve, reject) => {
      this.waiting.push((answer) =>
        answer.startsWith('error')
          ? reject(new Error(`native wire: ${answer.slice(6)} (${line.split(' ')[0]})`))
          : resolve(answer),
      );
      this.process.stdin!.write(line + '\n');
    });
  }

  /**
   * Creates the TUN device of one endpoint, inside network namespace `netns` when given;
   * endpoints are numbered in the order they are added.
   */
  async addTun(device: string, ip: string, group: number, netns?: string): Promise<void> {
    await this.command(`tun ${device} ${ip} ${group}${netns ? ` ${netns}` : ''}`);
  }

  async shape(fromGroup: number, toGroup: number, shape: LinkShape): Promise<void> {
    await this.command(`shape ${fromGroup} ${toGroup} ${shapeFields(shape)}`);
  }

  async override(endpoint: number, toGroup: number, shape: LinkShape): Promise<void> {
    await this.command(`over ${endpoint} ${toGroup} ${shapeFields(shape)}`);
  }

  /** The shape from one endpoint to another (a scheduled event), over every other layer. */
  async pair(from: number, to: number, shape: LinkShape): Promise<void> {
    await this.command(`pair ${from} ${to} ${shapeFields(shape)}`);
  }

  /** Packets to `ip` go to `endpoint` from now on, none to its old address. */
  async readdress(endpoint: number, ip: string): Promise<void> {
    await this.command(`addr ${endpoint} ${ip}`);
  }

  /** Forgets every pair shape of one endpoint. */
  async unpair(from: number): Promise<void> {
    await this.command(`unpair ${from}`);
  }

  async stats(): Promise<NativeWireStats> {
    return JSON.parse(await this.command('stats')) as NativeWireStats;
  }

  /** Ends the process (its devices go with it) and waits for it. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.stdin!.end();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }
}
