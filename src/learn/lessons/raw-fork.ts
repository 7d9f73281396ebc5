// What a bare fork() does to a Node process, next to the package's fork().
import * as fs from 'node:fs';
import { _exit, fork } from '../../index';
import { nativeInternals } from '../../native';
import { killAndReap, waitBounded, type Lesson } from './common';

export const rawFork: Lesson = {
  name: 'raw-fork',
  title: 'A bare fork() gives a child that dies with SIGSEGV; why, and what the package does',
  run(say) {
    const smaps = fs.readFileSync('/proc/self/smaps', 'utf8');
    const marked = smaps.split('\n').filter((l) => l.startsWith('VmFlags:') && / dc( |$)/.test(l)).length;
    say(
      `V8 marks its heap MADV_DONTFORK: ${marked} mappings of this process show "dc" in\n` +
        '/proc/self/smaps VmFlags. fork(2) does not copy such mappings into the child.\n',
    );

    say('The mistake: fork(2) alone, and the child goes on running JavaScript.\n');
    const bare = nativeInternals.bareFork();
    if (bare === 0) {
      const sum = [1, 2, 3].reduce((a, b) => a + b, 0); // touches the heap that is not there
      _exit(sum);
    }
    const bareStatus = waitBounded(bare, 5000) ?? killAndReap(bare);
    say(
      `  the child ${bareStatus.signaled ? `died by ${bareStatus.signal}` : `ended with ${bareStatus.exitCode}`}: ` +
        'where its heap was, it has holes.\n',
    );

    say(
      "The fix, this package's fork(): MADV_DOFORK over those mappings for the fork\n" +
        "(and back after), V8's worker threads parked, the child's own event loop\n" +
        '(uv_loop_fork), exit through _exit(2).\n',
    );
    const pid = fork(() => {
      const sum = [1, 2, 3].reduce((a, b) => a + b, 0);
      process.exitCode = sum;
    });
    const status = waitBounded(pid, 5000) ?? killAndReap(pid);
    say(`  the child ran the same JavaScript and exited with status ${status.exitCode} (1 + 2 + 3).\n`);
    return { dontforkMappings: marked, bareSignal: bareStatus.signal, forkExitCode: status.exitCode };
  },
};
