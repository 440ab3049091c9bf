// Text kept until it can be printed: in memory while small, past that in a temporary file. `sql` spools its
// result while the query's read-only transaction is open and prints it after the rollback, so a slow reader never
// holds that transaction (and its locks) open, and a query that fails at its last row has printed nothing.
import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { EXIT, ExitError } from './exit-codes.ts';

/** Characters kept in memory before the rest goes to a file. */
const MEMORY_CHARS = 4 * 2 ** 20;
// Pieces of 64 KiB: larger strings and buffers would go to V8's large-object space, which only a full collection
// frees, so that a large result's garbage would grow the heap by tens of MB.
export const PIECE = 2 ** 16;
const ENCODER = new TextEncoder();

export class Spool {
  readonly #dir: string;
  readonly #limit: number;
  #chunks: string[] = [];
  #chars = 0;
  #written = 0;
  #fd: number | null = null;
  readonly #bytes = Buffer.alloc(PIECE);

  constructor(dir = tmpdir(), limit = MEMORY_CHARS) {
    this.#dir = dir;
    this.#limit = limit;
  }

  /** Characters written so far. */
  get written(): number {
    return this.#written;
  }

  write(text: string): void {
    this.#written += text.length;
    if (this.#fd === null) {
      this.#chunks.push(text);
      this.#chars += text.length;
      if (this.#chars <= this.#limit) return;
      this.#fd = this.#open();
      text = this.#chunks.join('');
      this.#chunks = [];
    }
    try {
      // Through one buffer: writing the string itself would make a buffer of each, garbage that V8 lets grow.
      for (let rest = text; rest.length > 0; ) {
        const { read, written } = ENCODER.encodeInto(rest, this.#bytes);
        writeSync(this.#fd, this.#bytes, 0, written);
        rest = rest.slice(read);
      }
    } catch (err) {
      throw this.#refused(err as NodeJS.ErrnoException);
    }
  }

  /** What was written, in pieces (a piece may end inside a line). */
  *read(): Generator<string> {
    if (this.#fd === null) {
      yield* this.#chunks;
      return;
    }
    const decoder = new StringDecoder('utf8');
    for (let at = 0; ; ) {
      const n = readSync(this.#fd, this.#bytes, 0, PIECE, at);
      if (n === 0) break;
      at += n;
      yield decoder.write(this.#bytes.subarray(0, n));
    }
    yield decoder.end();
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#chunks = [];
  }

  /** A file only this process can reach: its name is removed at once, so nothing is left however it ends. */
  #open(): number {
    const path = join(this.#dir, `wecom-chain-sync-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      const fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
      return fd;
    } catch (err) {
      throw this.#refused(err as NodeJS.ErrnoException);
    }
  }

  #refused(err: NodeJS.ErrnoException): ExitError {
    return new ExitError(
      EXIT.config,
      `a result this large is kept in a temporary file until it is printed, and ${this.#dir} refused it (${err.code ?? err.message}): set TMPDIR to a directory with room, or narrow the query`,
    );
  }
}

/** The spooled text's lines, without their ends. */
export function* lines(pieces: Iterable<string>): Generator<string> {
  // The line under way, in pieces: joined once its end comes, not copied again with each piece (a cell of
  // tens of MB spans hundreds of them).
  let partial: string[] = [];
  for (const piece of pieces) {
    let start = 0;
    for (let end = piece.indexOf('\n'); end !== -1; end = piece.indexOf('\n', start)) {
      partial.push(piece.slice(start, end));
      yield partial.join('');
      partial = [];
      start = end + 1;
    }
    if (start < piece.length) partial.push(piece.slice(start));
  }
  if (partial.length > 0) yield partial.join('');
}
