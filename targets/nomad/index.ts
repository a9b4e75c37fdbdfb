import { EXECUTABLE_MISSING } from '../driver/messages.js';
import { onPath } from '../driver/exec.js';
import type { Target } from '../target.js';
import { nomadRenderer } from './render.js';
import { nomadCommands } from './steps.js';

/** Nomad: one HCL2 batch job; run with the nomad CLI against NOMAD_ADDR. */
export const nomadTarget: Target = {
  ...nomadRenderer,
  steps: (o) => nomadCommands(o.plan, o),
  environment(o) {
    if (!onPath('nomad', o.env.PATH)) return EXECUTABLE_MISSING.nomad;
    if (!o.env.NOMAD_ADDR) {
      return 'NOMAD_ADDR is not set: export NOMAD_ADDR=http://<a Nomad server>:4646 (and NOMAD_TOKEN if ACLs are on)';
    }
    return undefined;
  },
  run: async (o) => (await import('./run.js')).runNomad(o),
};
