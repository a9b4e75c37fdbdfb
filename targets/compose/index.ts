import type { Target } from '../target.js';
import { composeRenderer } from './render.js';
import { composeSteps } from './steps.js';

/** Docker Compose: `compose.yaml` + the runtime; run with `docker compose` (v2) or `docker-compose` (v1.29). */
export const composeTarget: Target = {
  ...composeRenderer,
  steps: composeSteps,
  // Docker, Compose and the runtime image are checked by the driver itself (each is a process start).
  environment: () => undefined,
  run: async (o) => (await import('./run.js')).runCompose(o),
};
