// How the Docker image starts the CLI, read from the Dockerfile, so that the benchmark measures the sync as
// production runs it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * How production starts the CLI, read from the Dockerfile: its ENTRYPOINT's node flags, the environment it
 * sets (a NODE_COMPILE_CACHE there means a compile cache, which the benchmark fills in a directory of its own).
 */
export function deployedNode(repo: string): {
  flags: string;
  env: Record<string, string>;
  compileCache: boolean;
} {
  let dockerfile = '';
  try {
    dockerfile = readFileSync(join(repo, 'Dockerfile'), 'utf8');
  } catch {
    return { flags: '', env: {}, compileCache: false };
  }
  // ENTRYPOINT ["node", "--max-semi-space-size=8", "src/cli/main.ts"]: the flags are between node and the script.
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  const argv: string[] = m ? JSON.parse(m[1]!) : [];
  const script = argv.findIndex((x) => x.endsWith('.ts') || x.endsWith('.js'));
  const env = Object.fromEntries(
    [...dockerfile.matchAll(/^ENV\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)\s*$/gm)].map((e) => [e[1]!, e[2]!]),
  );
  const compileCache = 'NODE_COMPILE_CACHE' in env;
  delete env.NODE_COMPILE_CACHE;
  return {
    flags: argv[0] === 'node' && script > 0 ? argv.slice(1, script).join(' ') : '',
    env,
    compileCache,
  };
}
