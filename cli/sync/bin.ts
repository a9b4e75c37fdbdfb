// `tgc sync` as a file of its own (dist/runtime/sync.mjs), for containers: compose mounts it with
// a `tgc` wrapper on the instances' PATH. Like every bin.ts, the only code here that touches process.
import { syncMain } from './sync-main.js';

const args = process.argv.slice(2);
process.exit(
  await syncMain(args[0] === 'sync' ? args.slice(1) : args, {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    env: process.env,
  }),
);
