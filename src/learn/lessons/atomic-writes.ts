// Several writers on one pipe: records up to PIPE_BUF bytes arrive whole, longer ones may be torn.
import { close, fork, pipe, read } from '../../index';
import { writeAll } from '../../internal/io-loops';
import { PIPE_BUF, waitBounded, type Lesson } from './common';

const WRITERS = 4;
const RECORDS = 200;
/** At most this many rounds of the mistake, until one shows a torn record. */
const ROUNDS = 5;

/** WRITERS children each write RECORDS records of `size` bytes, one write() each; returns the torn ones. */
function count(size: number): { records: number; torn: number } {
  const [r, w] = pipe();
  const pids: number[] = [];
  for (let k = 0; k < WRITERS; k++) {
    pids.push(
      fork(() => {
        close(r);
        const record = Buffer.alloc(size, 0x41 + k); // AAAA..., BBBB...
        for (let i = 0; i < RECORDS; i++) {
          writeAll(w, record);
        }
      }),
    );
  }
  close(w);
  const all: Buffer[] = [];
  const buf = Buffer.alloc(65536); // whatever the pipe holds
  for (let n; (n = read(r, buf)) > 0;) all.push(Buffer.from(buf.subarray(0, n)));
  close(r);
  pids.forEach((pid) => waitBounded(pid, 10_000));
  const stream = Buffer.concat(all);
  let torn = 0;
  for (let at = 0; at < stream.length; at += size) {
    const record = stream.subarray(at, at + size);
    if (record.some((b) => b !== record[0])) torn++;
  }
  return { records: stream.length / size, torn };
}

export const atomicWrites: Lesson = {
  name: 'atomic-writes',
  title: `Several writers: records of PIPE_BUF (${PIPE_BUF}) bytes arrive whole, ${PIPE_BUF + 1}-byte records may tear`,
  run(say) {
    say(
      `${WRITERS} children write ${RECORDS} records each into one pipe, one write() per\n` +
        'record, each record one letter repeated. The reader cuts the stream into\n' +
        'records again and counts those that mix letters.\n',
    );
    say(
      `PIPE_BUF is ${PIPE_BUF} on Linux (POSIX requires at least 512;\n` +
        '`getconf PIPE_BUF /` prints it).\n' +
        `The mistake: records of ${PIPE_BUF + 1} bytes, one more than PIPE_BUF.\n`,
    );
    // Whether a record tears depends on how the writers are scheduled: on a loaded machine a
    // round can pass with none, so up to ROUNDS rounds are run until one shows it.
    let big = count(PIPE_BUF + 1);
    let round = 1;
    for (; big.torn === 0 && round < ROUNDS; round++) big = count(PIPE_BUF + 1);
    say(
      `  ${big.torn} of ${big.records} records arrived torn${round > 1 ? ` (in round ${round}; the rounds before had none)` : ''}.\n` +
        '  A write longer than PIPE_BUF may be split when the pipe is full, and\n' +
        "  another writer's bytes go in between. May: how many varies from run to\n" +
        '  run, and some runs have none.\n',
    );
    say('The fix: records of at most PIPE_BUF bytes (or one writer, or framing with\na lock).\n');
    const small = count(PIPE_BUF);
    say(
      `  ${small.torn} of ${small.records} records of ${PIPE_BUF} bytes were torn: POSIX makes such\n` +
        '  writes atomic, always.\n',
    );
    return { tornAt4097: big.torn, tornAt4096: small.torn, records: small.records };
  },
};
