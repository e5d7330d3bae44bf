/**
 * Records the table of real trials that `npm run bench:search-real` replays (bench/data/README.md):
 *
 *   npx tsx bench/record-trials.ts [--task sst2] [--data ../shared/data] [--seeds 0,1]
 *     [--sizes 0,1,4,16,64,256] [--checkpoints 500,1000,2000,4000] [--shard 0/2] [--limit N]
 *     [--out bench/data/sst2-use-lite.jsonl.gz]
 *   npx tsx bench/record-trials.ts --merge [--clean] [--out ...]
 *
 * Every valid configuration of the reduced AutoPEFT space of USE-lite (2 layers: 3 layer masks x
 * sizes^3 - 3) is trained with each seed by the product's own trial (`runTrial`: USE-lite, one epoch
 * over `max(checkpoints)` training examples, the product's default hyperparameters, the validation
 * split carved from train with split seed 0), scoring the validation split after each checkpoint
 * (examples seen) and the official dev set at the end. The single-method configurations (one module
 * kind at every layer: the baselines) come first, then the rest in the product's GridSampler's seeded
 * order, so a table recorded in part is those baselines plus a uniform random subset.
 *
 * Resumable: rows already in the table or in this shard's part file are skipped; each finished row
 * is appended to bench/data/parts/<name>.<shard>.jsonl at once (a kill loses at most the running
 * trial). `--merge` folds the part files into the gzipped table (sorted, de-duplicated); with
 * `--clean` it also removes them (only once no shard is running). Run two shards (`--shard 0/2`, `--shard 1/2`) on a 2-core machine, one thread each.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { GridSampler } from '../src/search/samplers/grid.js';
import { autopeftSpace, peftFromSearch } from '../src/search/space/autopeft.js';
import type { Config } from '../src/trials/index.js';
import { runTrial } from '../src/train/trial.js';
import { configLayers, keyOfConfig, parseRows, readRows, type TableRow } from './real/table.js';
import { flag } from './lib/flags.js';

const arg = flag;
const nums = (s: string): number[] => s.split(',').map(Number);

const out = arg('out', 'bench/data/sst2-use-lite.jsonl.gz');
const partsDir = join(dirname(out), 'parts');
const stem = basename(out).replace(/\.jsonl(\.gz)?$/, '');

function partFiles(): string[] {
  if (!existsSync(partsDir)) return [];
  return readdirSync(partsDir)
    .filter((f) => f.startsWith(`${stem}.`) && f.endsWith('.jsonl'))
    .map((f) => join(partsDir, f));
}

function allRows(): TableRow[] {
  const rows = existsSync(out) ? readRows(out) : [];
  for (const f of partFiles()) rows.push(...parseRows(readFileSync(f, 'utf8'), f));
  return rows;
}

if (process.argv.includes('--merge')) {
  const byId = new Map<string, TableRow>();
  for (const r of allRows()) byId.set(`${r.key}#${r.seed}`, r);
  const rows = [...byId.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.seed - b.seed));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, gzipSync(`${rows.map((r) => JSON.stringify(r)).join('\n')}\n`, { level: 9 }));
  // The part files stay (a shard may still be appending to one) unless --clean says the recording is over.
  if (process.argv.includes('--clean')) for (const f of partFiles()) rmSync(f);
  console.log(`${out}: ${rows.length} rows, ${new Set(rows.map((r) => r.key)).size} configurations`);
  process.exit(0);
}

const task = arg('task', 'sst2');
const dataDir = arg('data', '../shared/data');
const seeds = nums(arg('seeds', '0,1'));
const sizes = nums(arg('sizes', '0,1,4,16,64,256'));
const checkpoints = nums(arg('checkpoints', '500,1000,2000,4000')).sort((a, b) => a - b);
const [shard, shards] = arg('shard', '0/1').split('/').map(Number) as [number, number];
const limit = Number(arg('limit', 'Infinity'));
const threads = Number(arg('threads', '1'));
const NUM_LAYERS = 2; // USE-lite

const HIDDEN = 512; // USE-lite
const space = autopeftSpace({ numLayers: NUM_LAYERS, hidden: HIDDEN, sizes });
const keyOf = (c: Config): string => keyOfConfig(c, NUM_LAYERS);
// The single-method configurations (one module kind, every layer) come first, so that even a table
// recorded in part holds the baselines the harness compares the whole space against; the rest follow
// in the GridSampler's seeded order (a uniform random subset when recorded in part).
const isSingleMethod = (c: Config): boolean =>
  configLayers(c, NUM_LAYERS).every((b) => b) && [c.sa, c.pa, c.pt].filter((x) => Number(x) > 0).length === 1;
const gridOrder = new GridSampler({ space, seed: 2026 }).order;
const order = [...gridOrder.filter(isSingleMethod), ...gridOrder.filter((c) => !isSingleMethod(c))];

const done = new Set(allRows().map((r) => `${r.key}#${r.seed}`));
// Config-major order (every seed of a configuration before the next one), then this shard's share.
const todo = order
  .flatMap((c, i) => seeds.map((seed) => ({ c, seed, i })))
  .filter(({ i }) => i % shards === shard)
  .filter(({ c, seed }) => !done.has(`${keyOf(c)}#${seed}`))
  .slice(0, limit);
const part = join(partsDir, `${stem}.${shard}of${shards}.jsonl`);
mkdirSync(partsDir, { recursive: true });
console.error(
  `${order.length} configurations x ${seeds.length} seeds; shard ${shard}/${shards}: ${todo.length} rows to record -> ${part}`,
);

const top = checkpoints[checkpoints.length - 1]!;
/** The code the rows come from: HEAD, marked when src/ had uncommitted changes at the start. */
const git = (...a: string[]): string => execFileSync('git', a, { encoding: 'utf8' }).trim();
const rev = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') ? '+dirty' : ''}`;
let n = 0;
const t0 = Date.now();
for (const { c, seed } of todo) {
  const start = performance.now();
  const curve: TableRow['curve'] = [];
  const r = await runTrial(
    {
      model: 'use-lite',
      task,
      dataDir,
      peft: peftFromSearch(c, NUM_LAYERS),
      // The search's defaults (autopeft search --help): lr 1e-3, batch 32, max length 64.
      hyper: { seed, epochs: 1, lr: 1e-3, batchSize: 32, maxLength: 64, checkpoints },
      fidelity: { trainCount: top, epochs: 1 },
      reportDev: true,
    },
    {
      threads,
    },
  );
  for (const p of r.curve) curve.push({ examples: p.examples, val: p.metric, sec: p.trainSeconds });
  const row: TableRow = {
    key: keyOf(c),
    layers: configLayers(c, NUM_LAYERS),
    sa: Number(c.sa),
    pa: Number(c.pa),
    pt: Number(c.pt),
    seed,
    paramPct: r.paramPct,
    valN: r.validationExamples,
    devN: r.devExamples ?? 0,
    curve,
    dev: r.devMetric!,
    sec: (performance.now() - start) / 1000,
    rev,
  };
  appendFileSync(part, `${JSON.stringify(row)}\n`);
  n++;
  const eta = ((Date.now() - t0) / n) * (todo.length - n);
  console.error(
    `[${n}/${todo.length}] ${row.key} seed ${seed}: val ${curve.map((p) => p.val.toFixed(3)).join(' ')} dev ${row.dev.toFixed(3)} ` +
      `(${row.sec.toFixed(1)} s; ~${(eta / 60000).toFixed(0)} min left)`,
  );
}
