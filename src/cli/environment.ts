// What the environment holds beyond what the configuration took from it.
import { unknownVariables } from '../config.ts';
import type { Logger } from '../log.ts';

/** A warning for each variable named like ours that is none of ours, with the one it probably meant. */
export function warnUnknownVariables(log: Logger, env: Record<string, string | undefined>): void {
  for (const { name, meant } of unknownVariables(env)) {
    log.warn(
      { variable: name, meant },
      meant ? `unknown variable ${name} ignored: did you mean ${meant}?` : `unknown variable ${name} ignored`,
    );
  }
}
