/**
 * Trials per hour of a low-fidelity random search (issue 12), with and without the frozen-prefix rows
 * shared across trials: random AutoPEFT configurations on a BERT of random weights, each trained on
 * the same SST-2 subset and scored on the same validation examples, in two arms with the same seeds:
 *
 * - `withoutCache`: every trial runs the frozen layers below its lowest adapted layer (what a BERT
 *   trial did before; with ORT's default optimisation those layers run without dropout already);
 * - `withCache`: `--frozen-dropout 0` and the shared store (./src/train/prefix-store.ts, a fresh
 *   directory): a trial whose lowest adapted layer is k starts from layer k's stored input,
 *   computed by the first trial that needed it;
 * - `perLength` (only with `--modes ...,per-length`): like `withoutCache`, one program per padded
 *   length (the trainer before issue 12) instead of one with a symbolic sequence axis.
 *
 * The arms alternate trial by trial (so both see the same machine load). Per trial: the training
 * wall time including compilation and the cache; `sameScores` compares every trial's validation
 * metrics across the arms. Last line: {"shape", "trials", "withCache": {"trialsPerHour", ...},
 * "withoutCache": {...}, "speedup", "sameScores", "load"}.
 *
 * Usage: npm run bench:trials -- [--shape tiny|small|base] [--trials 24] [--train 200] [--eval 100]
 *        [--max-length 128] [--threads 1] [--seed 0] [--modes without,with[,per-length]]
 *        [--max-minutes m] (stop after the trial that crosses m minutes; "trials" says how many ran)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/core/random.js';
import { subsample } from '../src/data/split.js';
import { loadTask } from '../src/data/tasks/load.js';
import { loadBackbone } from '../src/models/backbone.js';
import { writeTinyBert } from '../src/models/testing/tiny.js';
import { createPeft } from '../src/peft/create.js';
import { describePeft } from '../src/peft/config.js';
import { cacheableLayer } from '../src/peft/types.js';
import { autopeftSpace, peftFromSearch } from '../src/search/space/autopeft.js';
import { cacheLayerFor } from '../src/train/layer-cache.js';
import { PrefixStore } from '../src/train/prefix-store.js';
import { trainClassifier } from '../src/train/trainer.js';
import { flag } from './lib/flags.js';

const arg = flag;
const SHAPES = {
  tiny: { layers: 2, hidden: 128, heads: 2, intermediate: 512 },
  small: { layers: 6, hidden: 256, heads: 4, intermediate: 1024 },
  base: { layers: 12, hidden: 768, heads: 12, intermediate: 3072 },
} as const;
const shapeName = arg('shape', 'small') as keyof typeof SHAPES;
const shape = SHAPES[shapeName];
if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
const planned = Number(arg('trials', '24'));
// Stop after the trial that crosses this many minutes (the summary covers the trials run).
const maxMinutes = Number(arg('max-minutes', 'Infinity'));
const trainN = Number(arg('train', '200'));
const evalN = Number(arg('eval', '100'));
const maxLength = Number(arg('max-length', '128'));
const threads = Number(arg('threads', '1'));
const seed = Number(arg('seed', '0'));
const modes = arg('modes', 'without,with').split(',') as ('without' | 'with' | 'per-length')[];
const DATA = process.env.AUTOPEFT_SHARED_DATA ?? join(import.meta.dirname, '../../shared/data');
if (!existsSync(join(DATA, 'glue/sst2'))) {
  console.log(`SST-2 not found under ${DATA}; set AUTOPEFT_SHARED_DATA`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'autopeft-bench-trials-'));
try {
  const t0 = performance.now();
  // BERT's vocabulary size, so the embedding table (not in the cached prefix's cost) is realistic.
  await writeTinyBert(join(work, 'model'), { ...shape, vocab: 30522, maxPositions: 512, seed: 1 });
  const backbone = await loadBackbone(join(work, 'model'));
  const data = await loadTask('sst2', { dataDir: DATA });
  const train = subsample(data.train, { count: trainN, seed, regression: false });
  const evalSet = subsample(data.validation ?? data.dev!, { count: evalN, seed: seed + 1, regression: false });
  console.log(
    `${shapeName}: L${shape.layers} H${shape.hidden}, ${planned} trials x ${train.length} SST-2 examples (eval ${evalSet.length}), max length ${maxLength}, ${threads} thread(s); model ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; load ${loadavg()[0]!.toFixed(1)}`,
  );

  const space = autopeftSpace({ numLayers: shape.layers, hidden: shape.hidden });
  const rng = new Rng(seed);
  const configs = Array.from({ length: planned }, () => peftFromSearch(space.sample(rng), shape.layers));
  const store = new PrefixStore({ dir: join(work, 'store') });

  type Row = { seconds: number; metrics: Record<string, number>; layer: number; cacheSec: number };
  const rows: Record<string, Row[]> = Object.fromEntries(modes.map((m) => [m, []]));
  const loads: number[] = [];
  const runOne = async (mode: (typeof modes)[number], i: number): Promise<Row> => {
    const cfg = configs[i]!;
    const k = cacheableLayer(cfg, false);
    const cached = mode === 'with';
    let cacheSec = 0;
    const start = performance.now();
    const out = await trainClassifier({
      backbone,
      task: data.info,
      train,
      eval: evalSet,
      hooks: () => createPeft(cfg, backbone.dims, { seed: seed + i }).hooks,
      epochs: 1,
      lr: 1e-3,
      batchSize: 16,
      maxLength,
      seed: seed + i,
      threads,
      programs: mode === 'per-length' ? 'per-length' : 'symbolic',
      ...(cached
        ? { noDropoutBelow: k, cacheLayer: cacheLayerFor(backbone, cfg, false, true), prefixStore: store }
        : {}),
      onEvent: (e) => {
        if (e.kind === 'cache') cacheSec = e.seconds;
      },
    });
    const seconds = (performance.now() - start) / 1000;
    await out.release();
    return { seconds, metrics: out.best.metrics as Record<string, number>, layer: k, cacheSec };
  };
  // Warm-up (not timed): the process's first sessions, tokenizer and allocator caches, in every arm.
  for (const m of modes) await runOne(m === 'with' ? 'without' : m, 0);
  const started = performance.now();
  let trials = 0;
  for (let i = 0; i < planned && (performance.now() - started) / 60000 < maxMinutes; i++, trials++) {
    // Alternate which arm goes first, so neither always follows the other's allocations.
    const order = i % 2 === 0 ? modes : [...modes].reverse();
    const line: string[] = [];
    for (const m of order) {
      const r = await runOne(m, i);
      rows[m]!.push(r);
      line.push(`${m} ${r.seconds.toFixed(1)} s${m === 'with' ? ` (cache ${r.cacheSec.toFixed(1)} s)` : ''}`);
    }
    loads.push(loadavg()[0]!);
    console.log(
      `trial ${String(i + 1).padStart(2)} k=${rows[modes[0]!]![i]!.layer} ${describePeft(configs[i]!)}: ${line.join(', ')}; acc ${modes.map((m) => rows[m]![i]!.metrics.accuracy?.toFixed(3)).join(' / ')}; load ${loads.at(-1)!.toFixed(1)}`,
    );
  }
  const total = (m: string) => rows[m]!.reduce((s, r) => s + r.seconds, 0);
  const arm = (m: string) => ({
    trialsPerHour: Number(((3600 * trials) / total(m)).toFixed(2)),
    totalSec: Number(total(m).toFixed(1)),
    meanTrialSec: Number((total(m) / trials).toFixed(2)),
  });
  // Where the cache pays: mean trial time by the lowest adapted layer k.
  const byLayer: Record<string, { trials: number; withoutSec: number; withSec: number }> = {};
  if (rows.with && rows.without)
    rows.with.forEach((r, i) => {
      const b = (byLayer[r.layer] ??= { trials: 0, withoutSec: 0, withSec: 0 });
      b.trials++;
      b.withoutSec += rows.without![i]!.seconds;
      b.withSec += r.seconds;
    });
  for (const b of Object.values(byLayer)) {
    b.withoutSec = Number((b.withoutSec / b.trials).toFixed(2));
    b.withSec = Number((b.withSec / b.trials).toFixed(2));
  }
  const same = (a: string, b: string) =>
    rows[a]!.every((r, i) => JSON.stringify(r.metrics) === JSON.stringify(rows[b]![i]!.metrics));
  const result: Record<string, unknown> = {
    shape: shapeName,
    trials,
    trainExamples: train.length,
    evalExamples: evalSet.length,
    maxLength,
    threads,
    ...(rows.with ? { withCache: arm('with') } : {}),
    ...(rows.without ? { withoutCache: arm('without') } : {}),
    ...(rows['per-length'] ? { perLength: arm('per-length') } : {}),
    ...(rows.with && rows.without ? { speedup: Number((total('without') / total('with')).toFixed(3)) } : {}),
    ...(rows['per-length'] && rows.without
      ? { symbolicSpeedup: Number((total('per-length') / total('without')).toFixed(3)) }
      : {}),
    // The cache must not change a score; per-length programs draw other dropout masks (one RNG per
    // program), so their scores are compared on their own.
    ...(rows.with && rows.without ? { sameScores: same('without', 'with') } : {}),
    ...(rows['per-length'] && rows.without ? { sameScoresPerLength: same('without', 'per-length') } : {}),
    byLayer,
    store: store.stats,
    load: {
      min: Math.min(...loads),
      max: Math.max(...loads),
      mean: Number((loads.reduce((s, x) => s + x, 0) / loads.length).toFixed(1)),
    },
  };
  console.log(JSON.stringify(result));
} finally {
  rmSync(work, { recursive: true, force: true });
}
