// Which files a fresh process loads from one package when it imports the given modules: a check that an
// import stays off the run path, where each module loaded is resident for the whole sync.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const RECORD_AND_LOAD = `
import { registerHooks } from 'node:module';
const resolved = [];
registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); resolved.push(r.url); return r; } });
for (const m of JSON.parse(process.argv[1])) await import(new URL(m, process.argv[2]));
console.log(JSON.stringify(resolved.filter((url) => url.includes('/node_modules/' + process.argv[3] + '/'))));
`;

/** The URLs of every file of node_modules/`pkg` resolved, by import or require, while loading `modules`. */
export async function loadedPackageFiles(modules: string[], pkg: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    RECORD_AND_LOAD,
    JSON.stringify(modules),
    new URL('../../', import.meta.url).href,
    pkg,
  ]);
  return JSON.parse(stdout);
}
