import { readFileSync } from 'node:fs';
import type { ShapingPlan } from '../../model/egress-plan.js';

export interface AgentIo {
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGTERM, SIGINT). */
  readonly terminated: Promise<void>;
}

/** What TGC_SHAPING holds: the plan's shapes, and what the target knows of addresses. */
export interface AgentShaping extends ShapingPlan {
  /** Data addresses per group, where the target assigns them (compose); else the agents exchange them. */
  readonly addresses?: Readonly<Record<string, readonly string[]>>;
}

/** The coordinator topic on which kernel agents exchange data addresses when no target assigned them. */
export const ADDRESS_TOPIC = 'tgc:data-addresses';

/** The agent's parsed command-line options. */
export type AgentValues = Readonly<Record<string, string | boolean | undefined>>;

export function need(io: AgentIo, name: string): string {
  const v = io.env[name];
  if (!v) throw new Error(`${name} is not set (tgc sets it in every generated deployment)`);
  return v;
}

export function shaping(io: AgentIo, file: string | boolean | undefined): AgentShaping {
  const where = typeof file === 'string' ? file : 'TGC_SHAPING';
  try {
    return JSON.parse(typeof file === 'string' ? readFileSync(file, 'utf8') : need(io, 'TGC_SHAPING')) as AgentShaping;
  } catch (err) {
    throw new Error(`${where}: ${(err as Error).message}`);
  }
}
