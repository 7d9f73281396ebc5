// The lessons, in the order the tutorial's advice raises them.
import { brokenPipe } from './broken-pipe';
import type { Lesson } from './common';
import { noFraming } from './no-framing';
import { partialIo } from './partial-io';
import { pipeCapacity } from './pipe-capacity';
import { rawFork } from './raw-fork';
import { unclosedEnds } from './unclosed-ends';
import { zombie } from './zombie';

export const LESSONS: Lesson[] = [unclosedEnds, noFraming, pipeCapacity, brokenPipe, zombie, partialIo, rawFork];
export type { Lesson };
