// An exited child that nobody waited for stays in the process table as a zombie.
import * as fs from 'node:fs';
import { fork, waitpid } from '../../index';
import { processState } from '../../internal/proc';
import { waitUntil, type Lesson } from './common';

export const zombie: Lesson = {
  name: 'zombie',
  title: 'An exited child that nobody waited for stays in state Z until waitpid',
  run(say) {
    say('The mistake: the child exits, the parent never calls waitpid.\n');
    const pid = fork(() => {});
    waitUntil(() => processState(pid) === 'Z', 5000);
    const state = processState(pid);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').trim();
    say(`  the child has exited, yet /proc/${pid}/stat reads:\n  ${stat.split(' ').slice(0, 3).join(' ')} ...\n`);
    say(
      '  State Z: its memory is gone, but its pid and exit status wait in the\n' + '  process table for the parent.\n',
    );

    say('The fix: waitpid() collects the status and frees the entry.\n');
    const status = waitpid(pid);
    const gone = !fs.existsSync(`/proc/${pid}`);
    say(`  waitpid(${pid}) = exited ${status.exitCode}; /proc/${pid} ${gone ? 'is gone' : 'is still there'}.\n`);
    return { stateBeforeWait: state, exitCode: status.exitCode, goneAfterWait: gone };
  },
};
