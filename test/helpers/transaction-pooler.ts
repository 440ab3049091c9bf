// A pooler in transaction mode, as PgBouncer's pool_mode = transaction: each client's statements go to
// whichever server connection is free when the client's transaction (or lone statement) starts, and the
// connection goes back once the server is ready outside a transaction. Like PgBouncer it reuses the
// connection freed last, or with `roundRobin` (server_round_robin = 1) the one freed first. Just enough of the
// wire protocol for node-postgres over trust authentication.
import { connect, createServer, type Socket } from 'node:net';

export interface TransactionPooler {
  /** The URL to give clients: `target`'s, with the pooler's host and port. */
  url: string;
  close(): Promise<void>;
}

const SSL_REQUEST = 80_877_103;
const GSS_REQUEST = 80_877_104;

/**
 * Splits a byte stream into protocol messages: a type byte and a length, but for a client's first ones (an
 * SSL or GSS request, then the startup message), which have no type byte.
 */
class Frames {
  #buffer = Buffer.alloc(0);
  #untyped: boolean;
  constructor(fromClient: boolean) {
    this.#untyped = fromClient;
  }
  push(chunk: Buffer): Buffer[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const out: Buffer[] = [];
    for (;;) {
      const head = this.#untyped ? 0 : 1;
      if (this.#buffer.length < head + 4) return out;
      const size = head + this.#buffer.readInt32BE(head);
      if (this.#buffer.length < size) return out;
      const frame = this.#buffer.subarray(0, size);
      this.#buffer = this.#buffer.subarray(size);
      out.push(frame);
      if (this.#untyped && ![SSL_REQUEST, GSS_REQUEST].includes(frame.readInt32BE(4))) this.#untyped = false;
    }
  }
}

const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
/** An ErrorResponse of severity FATAL: the server, or the pooler, ends the connection after it. */
export const fatal = (code: string, text: string) =>
  message('E', Buffer.from(`SFATAL\u0000VFATAL\u0000C${code}\u0000M${text}\u0000\u0000`));

const HELLO = Buffer.concat([
  message('R', int32(0)),
  message('S', Buffer.from('server_version\u000015.0\u0000')),
  message('S', Buffer.from('client_encoding\u0000UTF8\u0000')),
  message('K', Buffer.concat([int32(1), int32(2)])),
  message('Z', Buffer.from('I')),
]);

/** The SQL of a simple Query ('Q') or of a Parse ('P', after the statement's name); '' for other messages. */
function statementText(frame: Buffer): string {
  const body = frame.subarray(5);
  if (frame[0] === 0x51) return body.toString('utf8', 0, body.indexOf(0));
  if (frame[0] !== 0x50) return '';
  const start = body.indexOf(0) + 1;
  return body.toString('utf8', start, body.indexOf(0, start));
}

interface Backend {
  socket: Socket;
  /** Where its messages go now: the client it serves, or nowhere while idle. */
  serve: ((frame: Buffer) => void) | null;
}

export interface PoolerOptions {
  /** Hand out the server connection freed first, not last; with `warm`, each statement gets another one. */
  roundRobin?: boolean;
  /** Server connections opened as the first client logs in. */
  warm?: number;
  /**
   * Clients connected at once; a login past that is refused as PgBouncer's max_client_conn refuses it (08P01),
   * or with `limitCode`'s SQLSTATE (53300: as PostgreSQL refuses a role past its connection limit).
   */
  maxClients?: number;
  limitCode?: string;
  /** Statement mode: a transaction block is refused, and the client disconnected, as PgBouncer does. */
  statementMode?: boolean;
  /**
   * Serve each client from one server connection of its own, as session pooling does, until it sends a
   * statement matching this; from then on, per transaction, and that server connection goes to no client
   * again, as if a busy pooler had handed it to another. What a check of the first statements cannot see.
   */
  pinUntil?: RegExp;
}

export async function startTransactionPooler(
  target: string,
  options: PoolerOptions = {},
): Promise<TransactionPooler> {
  const upstream = new URL(target);
  const idle: Backend[] = [];
  const take = () => (options.roundRobin ? idle.shift() : idle.pop());
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };

  // A new server connection, logged in with the client's own startup message.
  const open = (startup: Buffer) =>
    new Promise<Backend>((resolve, reject) => {
      const socket = connect(Number(upstream.port || 5432), upstream.hostname);
      track(socket);
      const backend: Backend = { socket, serve: null };
      const frames = new Frames(false);
      let ready = false;
      socket.once('connect', () => socket.write(startup));
      socket.once('error', reject);
      socket.on('data', (chunk) => {
        for (const frame of frames.push(chunk)) {
          if (!ready) {
            if (frame[0] === 0x45) reject(new Error('the server refused the pooler'));
            if (frame[0] === 0x5a) {
              ready = true;
              resolve(backend);
            }
          } else backend.serve?.(frame);
        }
      });
    });

  let first = true;
  let clients = 0;
  const server = createServer((client) => {
    track(client);
    const frames = new Frames(true);
    let startup: Buffer | null = null;
    let backend: Backend | null = null;
    let pinned = options.pinUntil !== undefined;
    let queue = Promise.resolve();
    let retired: Backend | null = null;
    const release = () => {
      if (backend === null || pinned) return;
      backend.serve = null;
      if (backend !== retired) idle.push(backend);
      backend = null;
    };
    const toServer = async (frame: Buffer) => {
      if (options.statementMode && /^\s*begin\b/i.test(statementText(frame))) {
        client.end(fatal('08P01', 'transaction blocks not allowed in statement pooling mode'));
        return;
      }
      if (backend === null) {
        if (first) {
          first = false;
          for (let i = 0; i < (options.warm ?? 0); i++) idle.push(await open(startup!));
        }
        backend = take() ?? (await open(startup!));
        backend.serve = (reply) => {
          client.write(reply);
          // ReadyForQuery outside a transaction: the server connection goes back to the pool.
          if (reply[0] === 0x5a && reply[5] === 0x49) release();
        };
      }
      if (pinned && options.pinUntil!.test(statementText(frame))) {
        pinned = false;
        retired = backend;
      }
      backend.socket.write(frame);
    };
    client.on('data', (chunk) => {
      for (const frame of frames.push(chunk)) {
        if (startup === null) {
          const code = frame.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSS_REQUEST) client.write('N');
          else if (clients >= (options.maxClients ?? Number.POSITIVE_INFINITY)) {
            client.end(fatal(options.limitCode ?? '08P01', 'no more connections allowed (max_client_conn)'));
            client.removeAllListeners('data');
            return;
          } else {
            clients++;
            client.once('close', () => clients--);
            startup = frame;
            client.write(HELLO);
          }
        } else if (frame[0] === 0x58) {
          client.end();
        } else {
          queue = queue
            .then(() => toServer(frame))
            .catch(() => {
              client.destroy();
            });
        }
      }
    });
    // A client gone in the middle of a transaction takes its server connection with it, as in PgBouncer.
    client.on('close', () => backend?.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
