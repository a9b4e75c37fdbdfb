import { onPath } from '../driver/exec.js';
import type { Target } from '../target.js';
import { nomadRenderer } from './render.js';
import { nomadCommands } from './steps.js';

/** What to do without the CLI this target drives (exit 3). */
const NO_NOMAD =
  'the nomad target drives the nomad CLI, which is not on PATH: install it ' +
  '(https://developer.hashicorp.com/nomad/install) and set NOMAD_ADDR; tgc compile --target nomad writes the job ' +
  'without it';

/** Nomad: one HCL2 batch job; run with the nomad CLI against NOMAD_ADDR. */
export const nomadTarget: Target = {
  ...nomadRenderer,
  steps: (o) => nomadCommands(o.plan, o),
  environment(o) {
    if (!onPath('nomad', o.env.PATH)) return NO_NOMAD;
    if (!o.env.NOMAD_ADDR) {
      return 'NOMAD_ADDR is not set: export NOMAD_ADDR=http://<a Nomad server>:4646 (and NOMAD_TOKEN if ACLs are on)';
    }
    return undefined;
  },
  run: async (o) => (await import('./run.js')).runNomad(o),
};
