// The job of the fork-server benchmark (bench/forkserver.ts): the warm pool's
// catalogue as the preload, one query as the job. The same module serves
// every variant: the fork server preloads it; child_process.fork and a
// Worker load it themselves (the `--child` entry and workerData below).
import { once } from 'node:events';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { type Item, loadCatalog, runJob } from '../examples/warm-pool';

let items: Item[] = [];

/** The preload: FORKSERVER_BENCH_RECORDS records (1,000,000 are about 250 MB). */
export async function init(): Promise<void> {
  items = loadCatalog(Number(process.env.FORKSERVER_BENCH_RECORDS ?? 10_000));
}

/** One line as soon as the job runs, one with its result; then, if `hold`, waits for stdin to end (memory is read meanwhile). */
export async function job(
  hold: boolean,
  say: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  say('first');
  say(JSON.stringify(runJob(items, { tag: 'red', minScore: 500 })));
  if (hold) await once(process.stdin.resume(), 'end');
}

if (!isMainThread && workerData?.forkServerBench) {
  void init().then(() => job(false, (line) => parentPort!.postMessage(line)));
} else if (require.main === module && process.argv[2] === '--child') {
  void init().then(() => job(process.argv[3] === 'hold'));
}
