// The lessons, in the order the tutorial's advice raises them.
import { atomicWrites } from './atomic-writes';
import { brokenPipe } from './broken-pipe';
import { cloexec } from './cloexec';
import type { Lesson } from './common';
import { copyOnWrite } from './copy-on-write';
import { fifo } from './fifo';
import { forkBuffering } from './fork-buffering';
import { noFraming } from './no-framing';
import { nonblockingWrites } from './nonblocking-writes';
import { orphan } from './orphan';
import { partialIo } from './partial-io';
import { pipeCapacity } from './pipe-capacity';
import { pipeline } from './pipeline';
import { pollBothPipes } from './poll-both-pipes';
import { popenLesson } from './popen';
import { rawFork } from './raw-fork';
import { sigchld } from './sigchld';
import { socketpairLesson } from './socketpair';
import { tutorialMyths } from './tutorial-myths';
import { unclosedEnds } from './unclosed-ends';
import { zombie } from './zombie';
import { pipeBarrier } from './pipe-barrier';
import { threeStagePipeline } from './three-stage-pipeline';
import { noZombies } from './no-zombies';
import { parentDeath } from './parent-death';
import { passADescriptor } from './pass-a-descriptor';

export const LESSONS: Lesson[] = [
  unclosedEnds,
  noFraming,
  pipeCapacity,
  brokenPipe,
  zombie,
  partialIo,
  rawFork,
  tutorialMyths,
  pipeline,
  cloexec,
  atomicWrites,
  copyOnWrite,
  forkBuffering,
  orphan,
  sigchld,
  fifo,
  socketpairLesson,
  pollBothPipes,
  nonblockingWrites,
  popenLesson,
  pipeBarrier,
  threeStagePipeline,
  noZombies,
  parentDeath,
  passADescriptor,
];
export type { Lesson };
