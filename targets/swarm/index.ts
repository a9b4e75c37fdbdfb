import type { Target } from '../target.js';
import { swarmRenderer } from './render.js';
import { swarmSteps } from './steps.js';

/** Docker Swarm: a stack (`runtime.yaml`, `stack.yaml`) + the runtime as configs; run with `docker stack deploy`. */
export const swarmTarget: Target = {
  ...swarmRenderer,
  steps: swarmSteps,
  // Docker and the swarm are checked by the driver itself (each is a process start).
  environment: () => undefined,
  run: async (o) => (await import('./run.js')).runSwarm(o),
};
