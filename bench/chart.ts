// `npm run bench:chart`: fork cost against the parent's RSS, from 50 MB to
// 1 GB, against Python's os.fork at the same RSS, drawn with Vega-Lite into
// fork-cost.svg (data beside it in fork-cost.json). Written to bench/out/
// (ignored by git) unless `--out DIR` names another directory or `--update`
// rewrites the tracked bench/fork-cost.svg and bench/fork-cost.json.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/internal/paths';
import { median } from './statistics';

const SIZES_MB = [50, 100, 200, 300, 500, 1024];
const REPEAT = 9;
const NODE_CASES = path.join(__dirname, 'node-cases.js');
const BENCH = path.join(PACKAGE_ROOT, 'bench');
const { values } = parseArgs({ options: { out: { type: 'string' }, update: { type: 'boolean' } } });
const OUT = values.update ? BENCH : path.resolve(values.out ?? path.join(BENCH, 'out'));

// Vega and Vega-Lite are ES modules; this file is compiled to CommonJS.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

async function main(): Promise<void> {
  const points: { rssMb: number; series: string; ms: number }[] = [];
  for (const mb of SIZES_MB) {
    process.stderr.write(`chart: fork at ${mb} MB\n`);
    const run = spawnSync(process.execPath, [NODE_CASES, 'fork', String(mb), String(REPEAT)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(run.stderr);
    const r = JSON.parse(run.stdout);
    const rssMb = Math.round(r.rssMb);
    const python = spawnSync('python3', [path.join(BENCH, 'baselines', 'fork.py'), String(rssMb), String(REPEAT)], {
      encoding: 'utf8',
    });
    if (python.status !== 0) throw new Error(python.stderr);
    points.push(
      { rssMb, series: "Python's os.fork (child runs Python)", ms: median(JSON.parse(python.stdout).seconds) * 1e3 },
      { rssMb, series: "this package's fork() (child runs JS)", ms: median(r.addon) * 1e3 },
      { rssMb, series: 'bare fork, whole heap (the floor)', ms: median(r.floorWholeHeap) * 1e3 },
      { rssMb, series: "bare fork, V8's MADV_DONTFORK kept (child cannot run JS)", ms: median(r.floorBare) * 1e3 },
      { rssMb, series: 'child_process.fork until first message', ms: median(r.childProcessFork) * 1e3 },
    );
  }
  const vegaLite = await importEsm('vega-lite');
  const vega = await importEsm('vega');
  const spec = vegaLite.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: "fork + _exit + waitpid against the parent's RSS (median of 9)",
    width: 520,
    height: 300,
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rssMb', type: 'quantitative', title: 'parent RSS (MB)' },
      y: { field: 'ms', type: 'quantitative', title: 'ms per fork (log scale)', scale: { type: 'log' } },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        legend: { orient: 'bottom', columns: 1, labelLimit: 480 },
      },
    },
  }).spec;
  const svg = await new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG();
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'fork-cost.svg'), svg);
  fs.writeFileSync(path.join(OUT, 'fork-cost.json'), `${JSON.stringify(points, null, 2)}\n`);
  process.stderr.write(`chart: wrote fork-cost.svg and fork-cost.json in ${OUT}\n`);
}

void main();
