// The Dockerfile, shebang and npm scripts start Node the same way. Node keys its compile cache by the V8
// flags that change compiled code (the heap sizes do not) and the user id, so the image's cache is filled
// with the ENTRYPOINT's flags, whatever they become, as the user the image runs as; a drift would not fail
// anything, only cost the memory it saves.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeFlags, SHEBANG, SHEBANG_FLAGS } from '../helpers/node-flags.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const DOCKERFILE = read('Dockerfile');
const SCRIPTS: Record<string, string> = JSON.parse(read('package.json')).scripts;

function dockerfileProblems(dockerfile: string): string[] {
  const lines = dockerfile.split('\n');
  const index = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const entry = lines[index(/^ENTRYPOINT /)];
  if (!entry) return ['no ENTRYPOINT'];
  const flags = nodeFlags((JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[]).join(' '));
  const fill = index(/^RUN node .*src\/cli\/main\.ts compile-cache$/);
  const problems: string[] = [];
  if (fill < 0) return ['the compile cache is never filled'];
  if (nodeFlags(lines[fill]!) !== flags)
    problems.push('compile-cache runs with other node flags than the ENTRYPOINT');
  if (index(/^ENV NODE_COMPILE_CACHE=/) > fill || index(/^ENV NODE_COMPILE_CACHE=/) < 0)
    problems.push('NODE_COMPILE_CACHE is not set before the cache is filled');
  if (index(/^USER node$/) < 0 || index(/^USER node$/) > fill)
    problems.push('the cache is not filled as the user that runs');
  if (index(/^COPY src /) > fill) problems.push('the cache is filled before the sources are copied');
  return problems;
}

describe('how Node is started', () => {
  it('fills the image compile cache with the ENTRYPOINT flags, as the user that runs, after the sources', () => {
    expect(dockerfileProblems(DOCKERFILE)).toEqual([]);
  });

  it('uses the same node flags in the ENTRYPOINT, the shebang and every npm script that runs the CLI', () => {
    const entry = /^ENTRYPOINT (.*)$/m.exec(DOCKERFILE)![1]!;
    const flags = nodeFlags((JSON.parse(entry) as string[]).join(' '));
    expect(flags).toMatch(/^--/);
    expect(SHEBANG_FLAGS).toBe(flags);
    const cliScripts = Object.values(SCRIPTS).filter((s) => s.includes('src/cli/main.ts'));
    expect(cliScripts.length).toBeGreaterThan(0);
    for (const script of cliScripts) expect(nodeFlags(script), script).toBe(flags);
  });

  it('tunes glibc malloc the same way in the image and the shebang', () => {
    const image = [...DOCKERFILE.matchAll(/^ENV (MALLOC_\w+=\S+)$/gm)].map((m) => m[1]);
    const shebang = SHEBANG.match(/\bMALLOC_\w+=\S+/g) ?? [];
    expect(image).toContain('MALLOC_TRIM_THRESHOLD_=131072');
    expect(shebang).toEqual(image);
  });

  it('catches each way the Dockerfile can drift', () => {
    const broken = (from: string | RegExp, to: string) => dockerfileProblems(DOCKERFILE.replace(from, to));
    expect(broken(/^RUN node .*compile-cache\n/m, '')).toEqual(['the compile cache is never filled']);
    // The fill's last flag dropped, whatever the flags are.
    expect(broken(/ --\S+ (?=src\/cli\/main\.ts compile-cache)/, ' ')).toEqual([
      'compile-cache runs with other node flags than the ENTRYPOINT',
    ]);
    expect(broken(/^ENV NODE_COMPILE_CACHE=.*\n/m, '')).toEqual([
      'NODE_COMPILE_CACHE is not set before the cache is filled',
    ]);
    expect(broken(/^USER node\n/m, '')).toEqual(['the cache is not filled as the user that runs']);
  });
});
