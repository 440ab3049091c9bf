import { mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, ExitError } from '../../src/cli/exit-codes.ts';
import { lines, Spool } from '../../src/cli/spool.ts';

describe('Spool', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wcs-spool-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a small text in memory, touching no file', () => {
    const spool = new Spool(dir, 100);
    spool.write('a\n');
    spool.write('b\n');
    expect([...spool.read()].join('')).toBe('a\nb\n');
    expect(readdirSync(dir)).toEqual([]);
    spool.close();
  });

  it('moves a large one to a file with no name, and reads it back whole, characters split across blocks too', () => {
    const spool = new Spool(dir, 10);
    // 华 is three bytes in UTF-8: the 64 KiB read blocks end inside some of them.
    const text = `${'a'.repeat(2 ** 20 - 1)}华\n${'华'.repeat(700_000)}\n`;
    spool.write('first\n');
    spool.write(text);
    spool.write('last\n');
    // Written to a file whose name went at once: nothing to clean up, however the process ends. Only this
    // user may read it: it holds query results.
    expect(readdirSync(dir)).toEqual([]);
    const open = readdirSync('/proc/self/fd')
      .map((fd) => `/proc/self/fd/${fd}`)
      .filter((fd) => {
        try {
          return readlinkSync(fd).startsWith(`${dir}/`);
        } catch {
          return false;
        }
      });
    expect(open).toHaveLength(1);
    expect(readlinkSync(open[0]!)).toMatch(/ \(deleted\)$/);
    expect(statSync(open[0]!).mode & 0o777).toBe(0o600);
    expect([...spool.read()].join('')).toBe(`first\n${text}last\n`);
    // Read twice, the same.
    expect([...lines(spool.read())]).toEqual([
      'first',
      `${'a'.repeat(2 ** 20 - 1)}华`,
      '华'.repeat(700_000),
      'last',
    ]);
    spool.close();
  });

  it('names the directory, and what to do, when it cannot keep a file there', () => {
    const spool = new Spool(join(dir, 'gone'), 4);
    let thrown: unknown;
    try {
      spool.write('more than four');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ExitError);
    expect((thrown as ExitError).code).toBe(EXIT.config);
    expect((thrown as Error).message).toBe(
      `a result this large is kept in a temporary file until it is printed, and ${join(dir, 'gone')} refused it (ENOENT): set TMPDIR to a directory with room, or narrow the query`,
    );
  });

  it('splits pieces into lines wherever the pieces end', () => {
    expect([...lines(['a\nb', 'c\n\nd', '\n'])]).toEqual(['a', 'bc', '', 'd']);
    expect([...lines(['a', 'b', 'c', '\nd'])]).toEqual(['abc', 'd']);
    expect([...lines([])]).toEqual([]);
  });
});
