// How the CLI starts Node: the flags a command line gives before src/cli/main.ts, and the shebang's.
import { readFileSync } from 'node:fs';
import { MAIN } from './cli.ts';

/** The CLI's first line: `#!/usr/bin/env -S VAR=x node --a=1 --b=2`. */
export const SHEBANG = readFileSync(MAIN, 'utf8').split('\n')[0]!;

/** The node flags before `src/cli/main.ts` in a command line, or null if it does not run the CLI. */
export function nodeFlags(command: string): string | null {
  const m = /\bnode((?:\s+--[\w-]+=\S+)*)\s+src\/cli\/main\.ts\b/.exec(command);
  return m ? m[1]!.trim() : null;
}

/** The node flags the shebang starts the CLI with. */
export const SHEBANG_FLAGS = nodeFlags(`${SHEBANG.replace('#!/usr/bin/env -S ', '')} src/cli/main.ts`);
