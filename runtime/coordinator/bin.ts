// The standalone coordinator bundle (dist/runtime/coordinator.mjs): `node coordinator.mjs --help`.
import { coordinatorMain } from './main.js';

process.exitCode = await coordinatorMain(process.argv.slice(2), {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
});
