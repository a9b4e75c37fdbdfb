/** Exit codes (SPEC §3): the only numbers a command returns. */
export const EXIT = { ok: 0, runFailed: 1, invalid: 2, environment: 3, internal: 70, interrupted: 130 } as const;
