import type { Readable } from 'node:stream';

/** Calls `onLine` with each newline-terminated line the stream delivers (UTF-8), blank lines skipped. */
export function onLines(socket: Readable, onLine: (line: string) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line) onLine(line);
    }
  });
}
