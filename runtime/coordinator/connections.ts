import { createServer, type Server, type Socket } from 'node:net';
import { MAX_FRAME_BYTES, type ErrorCode } from '../../protocol/messages.js';
import { LineReader } from './line-reader.js';
import { setProxiedSource, type Conn } from './types.js';

export interface ConnectionsOptions {
  readonly maxConnections: number;
  /** Bytes queued towards one client before it is dropped for not reading. */
  readonly maxQueuedBytes: number;
  /** A connection that sends nothing and has not registered is closed after this. */
  readonly idleTimeoutMs: number;
  /** A connection whose first byte starts an HTTP method: handed over, bytes intact. */
  readonly onHttp: (socket: Socket) => void;
  /** Each frame parsed from one line (any JSON value; the handler checks its shape). */
  readonly onFrame: (conn: Conn, frame: unknown) => void;
  readonly onClose: (conn: Conn) => void;
}

/**
 * The coordinator's port and its connections: one port, two protocols told apart by the first
 * byte; frames split by lines under a size limit; writes coalesced per event-loop turn.
 */
export class Connections {
  readonly server: Server;
  readonly live = new Set<Conn>();
  /** Every accepted socket, whatever it turned out to speak, so close() can end them all. */
  private readonly sockets = new Set<Socket>();
  private readonly touched = new Set<Socket>();
  private readonly corked = new Set<Socket>();
  /** What the coordinator has written to its clients (frames and bytes), for /status and /metrics. */
  private sentFrames = 0;
  private sentBytes = 0;
  private flushScheduled = false;

  constructor(private readonly o: ConnectionsOptions) {
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    this.server.maxConnections = o.maxConnections;
  }

  /** Drops every connection. */
  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.setTimeout(this.o.idleTimeoutMs);
    socket.on('timeout', () => {
      if (!conn.role) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    const conn: Conn = {
      socket,
      reader: new LineReader(MAX_FRAME_BYTES),
      cursors: new Map(),
      drainPending: false,
      closed: false,
    };
    // One port, two protocols: a first byte that starts an HTTP method goes to the HTTP server.
    const sniff = (first: Buffer) => {
      const c = first[0]!;
      if (c >= 0x41 && c <= 0x5a) {
        socket.setTimeout(0);
        socket.removeAllListeners('timeout');
        socket.pause();
        socket.unshift(first);
        this.o.onHttp(socket);
        socket.resume();
        return;
      }
      this.live.add(conn);
      socket.on('close', () => {
        conn.closed = true;
        this.live.delete(conn);
        this.o.onClose(conn);
      });
      this.onData(conn, first);
      socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    };
    socket.once('data', (first: Buffer) => {
      // A relay's PROXY line (HAProxy's version 1) first: the instance the connection is for.
      if (first.subarray(0, 6).toString('latin1') !== 'PROXY ') return sniff(first);
      const end = first.indexOf('\r\n');
      const fields = end > 0 && end <= 107 ? first.subarray(0, end).toString('latin1').split(' ') : [];
      if (fields[1] !== 'TCP4' || !/^[0-9]{1,3}(\.[0-9]{1,3}){3}$/.test(fields[2] ?? '')) return void socket.destroy();
      setProxiedSource(socket, fields[2]!);
      const rest = first.subarray(end + 2);
      if (rest.length > 0) sniff(rest);
      else socket.once('data', sniff);
    });
  }

  private onData(conn: Conn, chunk: Buffer): void {
    if (conn.closed) return;
    const lines = conn.reader.push(chunk);
    if (lines === 'tooLong') {
      this.sendError(
        conn,
        undefined,
        'frame_too_large',
        `a frame is limited to ${MAX_FRAME_BYTES} bytes; closing the connection`,
      );
      conn.socket.end();
      conn.closed = true;
      return;
    }
    for (const line of lines) {
      if (conn.closed) return;
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.sendError(conn, undefined, 'bad_json', 'a frame must be one JSON object on one line');
        continue;
      }
      this.o.onFrame(conn, msg);
    }
  }

  sent(): { readonly sent_frames: number; readonly sent_bytes: number } {
    return { sent_frames: this.sentFrames, sent_bytes: this.sentBytes };
  }

  send(conn: Conn, line: string | Buffer): void {
    if (conn.closed) return;
    if (conn.socket.writableLength > this.o.maxQueuedBytes) {
      // A client that does not read is dropped rather than buffered without bound.
      conn.closed = true;
      conn.socket.destroy();
      return;
    }
    this.write(conn.socket, line);
  }

  /**
   * The first write to a socket in an event-loop turn goes out at once; from the second on,
   * the socket is corked until every ready input has been handled, then gets one writev. A
   * burst (everyone publishing at once) costs one system call per client, not per message,
   * and a lone reply (a barrier release) is not delayed.
   */
  write(socket: Socket, data: string | Buffer): void {
    this.sentFrames++;
    this.sentBytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (!this.touched.has(socket)) {
      this.touched.add(socket);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    } else if (!this.corked.has(socket)) {
      socket.cork();
      this.corked.add(socket);
    }
    socket.write(data);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    for (const socket of this.corked) socket.uncork();
    this.corked.clear();
    this.touched.clear();
  };

  reply(conn: Conn, id: number | undefined, body: Record<string, unknown>): void {
    if (id === undefined) return;
    this.send(conn, JSON.stringify({ re: id, ...body }) + '\n');
  }

  /** The reply of a released barrier or a signal, the hot path of big runs: built by hand. */
  replyCount(conn: Conn, id: number | undefined, count: number): void {
    if (id !== undefined) this.send(conn, `{"re":${id},"count":${count}}\n`);
  }

  sendError(conn: Conn, id: number | undefined, code: ErrorCode, message: string): void {
    const error = { code, message };
    this.send(conn, JSON.stringify(id === undefined ? { event: 'error', error } : { re: id, error }) + '\n');
  }
}
