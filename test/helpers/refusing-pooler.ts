// A stand-in for a connection pooler (PgBouncer) that refuses every startup with one FATAL error, as PgBouncer
// refuses an `options` startup parameter it does not pass on. It speaks just enough of the wire protocol.
import { type AddressInfo, createServer } from 'node:net';
import { fatal } from './transaction-pooler.ts';

export interface RefusingPooler {
  /** A postgres:// URL for the pooler, with no options. */
  url: string;
  close(): Promise<void>;
}

export async function startRefusingPooler(code: string, message: string): Promise<RefusingPooler> {
  const reply = fatal(code, message);
  // The startup message arrives first (no SSLRequest: the URL asks for none); the answer is the same whatever it says.
  const server = createServer((socket) => socket.once('data', () => socket.end(reply)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgres://wcs@127.0.0.1:${port}/bi`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
