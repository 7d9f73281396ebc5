// The exercises of `bidirectional-ipc exercise`: a starter program with a
// mistake or a gap (a TODO says what to do), its reference solution, and the
// check that judges a student's version from what the kernel did.
import { closeUnusedEnds } from './close-unused-ends';
import { frameMessages } from './frame-messages';
import { lsWc } from './ls-wc';
import { noDeadlock } from './no-deadlock';
import type { Observation } from './observe';
import { reapChildren } from './reap-children';
import type { Verdict } from './verdict';

export interface Exercise {
  name: string;
  /** One line: what to make work. */
  task: string;
  /**
   * The programs, in TypeScript that only annotates (Node strips it as is);
   * the JavaScript is made from it (see {@link programText}).
   */
  starter: string;
  solution: string;
  /** A shell command run beside the program, in the same folder, for comparison. */
  shell?: string;
  check(obs: Observation): Verdict;
}

export const EXERCISES: readonly Exercise[] = [closeUnusedEnds, lsWc, noDeadlock, reapChildren, frameMessages];

export type Language = 'ts' | 'js';

/** The annotations the programs use, erased for JavaScript. */
const ANNOTATION = /([\w)\]])\s*:\s*(?:number|string|Buffer)(?:\[\])?(?=\s*[,)=;{])/g;
const IMPORT = /^import \{ ([^}]+) \} from 'bidirectional-ipc';$/m;

/** A program of `exercise` in `language`, saved as `file`, with a header that says how to check it. */
export function programText(
  exercise: Exercise,
  which: 'starter' | 'solution',
  language: Language,
  file: string,
): string {
  let body = exercise[which];
  if (language === 'js')
    body = body.replace(IMPORT, "const { $1 } = require('bidirectional-ipc');").replace(ANNOTATION, '$1');
  const header =
    `// Exercise ${exercise.name}: ${exercise.task}.\n` +
    `// Check it: npx bidirectional-ipc exercise check ${exercise.name} ${file}\n`;
  return header + body;
}
