/**
 * The coordinator's wire protocol: newline-delimited JSON over TCP (one JSON object per line,
 * UTF-8). `docs/protocol.md` is the reference; this file is its TypeScript shape.
 */

/** A frame (one line) may not exceed this many bytes; a longer one closes the connection. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** The state agents signal once their instance's shaping is applied. */
export const NETWORK_READY_STATE = 'network-ready';

export type Outcome = 'success' | 'failure' | 'crash' | 'timeout' | 'stopped';

export const ERROR_CODES = [
  'bad_json',
  'bad_request',
  'frame_too_large',
  'unknown_type',
  'not_registered',
  'already_registered',
  'run_full',
  'group_full',
  'unknown_group',
  'duplicate_instance',
  'run_ended',
  'outcome_reported',
  'no_agent',
  'configure_failed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** Requests a client sends. `id` is optional; when present, exactly one reply carries `re: id`. */
export type Request =
  | { type: 'register'; id?: number; role?: 'instance' | 'agent'; group?: string; instance?: string; data_ip?: string }
  | { type: 'signal'; id?: number; state: string }
  | { type: 'barrier'; id?: number; state: string; target: number }
  | { type: 'publish'; id?: number; topic: string; payload: unknown }
  | { type: 'subscribe'; id?: number; topic: string; from?: number }
  | { type: 'unsubscribe'; id?: number; topic: string }
  | { type: 'record'; id?: number; name: string; value: number; unit?: string }
  | { type: 'message'; id?: number; text: string }
  | { type: 'outcome'; id?: number; status: 'success' | 'failure'; reason?: string }
  | { type: 'network_wait_ready'; id?: number }
  | { type: 'network_configure'; id?: number; shape: Record<string, unknown>; callback_state?: string }
  | { type: 'network_ready'; id?: number }
  | { type: 'network_failed'; id?: number; reason: string }
  | { type: 'configured'; id?: number; ref: number; error?: string }
  | { type: 'ping'; id?: number };

export interface Identity {
  readonly run_id: string;
  readonly plan: string;
  readonly name: string;
  readonly group: string;
  readonly seq: number;
  readonly group_seq: number;
  readonly instances: number;
  readonly group_instances: number | null;
}
