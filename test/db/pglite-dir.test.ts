// The embedded database's directory: one process at a time, and a lock left by a dead process is taken over
// when that can be known.
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseInUseError, lockDirectory } from '../../src/db/pglite-dir.ts';

describe('lockDirectory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wcs-pglite-lock-'));
  const file = join(dir, 'wecom-chain-sync.pid');
  const namespace = readlinkSync('/proc/self/ns/pid');
  const holder = (pid: number, ns = namespace) => JSON.stringify({ pid, namespace: ns, nonce: 'n' });
  afterEach(() => rmSync(file, { force: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a directory a live process holds, and takes over one whose process is gone', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(file, holder(other.pid!));
      expect(() => lockDirectory(dir)).toThrow(DatabaseInUseError);
      expect(() => lockDirectory(dir)).toThrow(`in use by process ${other.pid};`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    const release = lockDirectory(dir);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, namespace });
    release();
    expect(existsSync(file)).toBe(false);
  });

  it("takes over a file of this process's pid left by an earlier process of its namespace", () => {
    writeFileSync(file, holder(process.pid));
    lockDirectory(dir)();
    expect(existsSync(file)).toBe(false);
  });

  const hint = `it is taken over once untouched for 120 s; if no process has it open, delete ${file}`;
  const untouchedFor = (seconds: number) => {
    const at = new Date(Date.now() - seconds * 1000);
    utimesSync(file, at, at);
  };

  it('refuses a holder of another PID namespace, whose pid says nothing here, even this very pid', () => {
    // Another container on the same volume: its first process is pid 1 there, as this one may be here.
    writeFileSync(file, holder(process.pid, 'pid:[1]'));
    untouchedFor(100);
    expect(() => lockDirectory(dir)).toThrow(
      `is in use by process ${process.pid} of another PID namespace (another container?); it is for one process at a time; ${hint}`,
    );
  });

  it('takes over a holder of another PID namespace that stopped touching its file: a container restarted', () => {
    writeFileSync(file, holder(1, 'pid:[1]'));
    untouchedFor(121);
    lockDirectory(dir)();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a file it cannot read a holder from, as one being written, until it is as old', () => {
    writeFileSync(file, '');
    expect(() => lockDirectory(dir)).toThrow(`in use by a process; it is for one process at a time; ${hint}`);
    untouchedFor(121);
    lockDirectory(dir)();
  });

  it("reads an earlier version's file, a bare pid, as a process of its own namespace", async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(file, String(other.pid));
      expect(() => lockDirectory(dir)).toThrow(`in use by process ${other.pid};`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    lockDirectory(dir)();
  });

  it('touches its file while it holds it, even while the main thread is busy (a long PGlite query)', () => {
    const release = lockDirectory(dir, 50);
    try {
      untouchedFor(100);
      // The main thread blocked for 600 ms, as by a statement running in PGlite's WASM.
      const blockedAt = Date.now();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
      expect(statSync(file).mtimeMs).toBeGreaterThan(blockedAt);
    } finally {
      release();
    }
  });

  it('judges a holder of this namespace on another boot (another host, a reboot) by its touches, not its pid', async () => {
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      // Its pid is alive here, but names another process than the one that wrote the file.
      writeFileSync(file, JSON.stringify({ pid: other.pid, namespace, boot: 'another-boot', nonce: 'n' }));
      untouchedFor(121);
      lockDirectory(dir)();
      expect(existsSync(file)).toBe(false);
      // A dead pid, on another host just now: not taken over.
      writeFileSync(file, JSON.stringify({ pid: 999_999_999, namespace, boot: 'another-boot', nonce: 'n' }));
      expect(() => lockDirectory(dir)).toThrow(DatabaseInUseError);
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
  });

  it('lets go of its file when the process exits without releasing it (a stop signal, process.exit)', async () => {
    const module = new URL('../../src/db/pglite-dir.ts', import.meta.url).href;
    const script = `import { lockDirectory } from ${JSON.stringify(module)}; lockDirectory(${JSON.stringify(dir)}); process.exit(9);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(9);
    expect(existsSync(file)).toBe(false);
  });

  it('releases only its own file', () => {
    const release = lockDirectory(dir);
    writeFileSync(file, holder(1, 'pid:[1]'));
    release();
    expect(readFileSync(file, 'utf8')).toBe(holder(1, 'pid:[1]'));
  });
});
