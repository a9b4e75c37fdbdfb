// A service for the scheduled-events tests: answers every TCP connection on port 7000 with a token
// of this process and its data address, so a checker can tell it is down, and back as a new
// process at the same address.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';

const token = randomBytes(6).toString('hex');
createServer((socket) => socket.end(`${token} ${process.env.TGC_DATA_IP ?? ''}\n`)).listen(7000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
