import { readSync } from 'node:fs';

/** The `tgc` executable: the only place that touches process.argv, env and exit. */
function readStdin(limit: number): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n: number;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EOF') break;
      throw err;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
    if (total > limit) break;
  }
  return Buffer.concat(chunks);
}

// `tgc sync` (shell scripts inside instances, called often): its own small module, nothing else.
if (process.argv[2] === 'sync') {
  const { syncMain } = await import('./sync/sync-main.js');
  process.exit(
    await syncMain(process.argv.slice(3), {
      stdout: (t) => void process.stdout.write(t),
      stderr: (t) => void process.stderr.write(t),
      env: process.env,
    }),
  );
}
const { main } = await import('./main.js');
const color = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
// Ctrl-C asks the run to stop and clean up; a second one leaves at once.
const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});
process.on('SIGTERM', () => interrupt.abort());
const code = await main(process.argv.slice(2), {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readStdin,
  stdin: process.stdin,
  color,
  tty: Boolean(process.stderr.isTTY),
  signal: interrupt.signal,
  env: process.env,
  cwd: process.cwd(),
  isRoot: process.getuid?.() === 0,
});
process.exit(code);
