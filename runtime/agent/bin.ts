// The shaping agent bundle (dist/runtime/agent.mjs) that container deployments run: `node agent.mjs --help`.
import { agentMain } from './main.js';

const terminated = new Promise<void>((resolve) => {
  process.once('SIGTERM', () => resolve());
  process.once('SIGINT', () => resolve());
});
process.exitCode = await agentMain(process.argv.slice(2), {
  stderr: (t) => void process.stderr.write(t),
  env: process.env,
  terminated,
});
process.exit();
