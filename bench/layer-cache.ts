/**
 * Frozen-prefix caching speed-up (issue 3): USE-lite with a serial adapter (D = 64) in the top
 * layer only, trained on an SST-2 slice with and without caching the frozen layer below it.
 * Both runs do the same work (same batches, epochs, evaluation on the validation split); the
 * cached run's time includes building its cache. Runs are interleaved, `--reps` times each;
 * medians are reported. Last line: {"cachedSec", "uncachedSec", "speedup", "stepMsCached",
 * "stepMsUncached", "cacheBuildSec", "examples", "epochs"}.
 * Usage: npm run bench:cache [-- --examples 2000 --epochs 3 --reps 2 --threads 2]
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { loadTask } from '../src/data/tasks/load.js';
import { loadBackbone } from '../src/models/backbone.js';
import { createPeft } from '../src/peft/create.js';
import { parsePeftConfig } from '../src/peft/config.js';
import { trainClassifier, type TrainEvent } from '../src/train/trainer.js';
import { median, numFlag } from './lib/flags.js';

const arg = numFlag;
const examples = arg('examples', 2000);
const epochs = arg('epochs', 3);
const reps = arg('reps', 2);
const threads = arg('threads', availableParallelism());
const DATA = process.env.AUTOPEFT_SHARED_DATA ?? join(import.meta.dirname, '../../shared/data');
if (!existsSync(join(DATA, 'glue/sst2'))) {
  console.log(`SST-2 not found under ${DATA}; set AUTOPEFT_SHARED_DATA`);
  process.exit(0);
}
const backbone = await loadBackbone('use-lite');
const data = await loadTask('sst2', { dataDir: DATA });
const train = data.train.slice(0, examples);
const evalSet = data.validation!;
const cfg = parsePeftConfig({ sa: 64, layers: [backbone.dims.numLayers - 1] }, backbone.dims.numLayers);

async function run(cacheLayer: number) {
  let cacheSec = 0;
  const t0 = performance.now();
  const out = await trainClassifier({
    backbone,
    task: data.info,
    train,
    eval: evalSet,
    hooks: () => createPeft(cfg, backbone.dims, { seed: 0 }).hooks,
    cacheLayer,
    epochs,
    lr: 1e-3,
    batchSize: 32,
    maxLength: 64,
    seed: 0,
    threads,
    onEvent: (e: TrainEvent) => {
      if (e.kind === 'cache') cacheSec = e.seconds;
    },
  });
  const total = (performance.now() - t0) / 1000;
  await out.release();
  return { total, stepMs: (1000 * out.trainSeconds) / out.steps, cacheSec, metric: out.best.metric };
}

const cached: Awaited<ReturnType<typeof run>>[] = [];
const plain: Awaited<ReturnType<typeof run>>[] = [];
await run(0); // warm-up: tokenizer caches, first session creation
for (let r = 0; r < reps; r++) {
  plain.push(await run(0));
  cached.push(await run(backbone.dims.numLayers - 1));
  console.log(
    `rep ${r + 1}: uncached ${plain[r]!.total.toFixed(1)} s, cached ${cached[r]!.total.toFixed(1)} s (cache build ${cached[r]!.cacheSec.toFixed(1)} s); validation accuracy ${plain[r]!.metric.toFixed(4)} vs ${cached[r]!.metric.toFixed(4)}`,
  );
}
const res = {
  cachedSec: median(cached.map((c) => c.total)),
  uncachedSec: median(plain.map((c) => c.total)),
  speedup: median(plain.map((c) => c.total)) / median(cached.map((c) => c.total)),
  stepMsCached: median(cached.map((c) => c.stepMs)),
  stepMsUncached: median(plain.map((c) => c.stepMs)),
  cacheBuildSec: median(cached.map((c) => c.cacheSec)),
  examples: train.length,
  epochs,
};
console.log(JSON.stringify(res));
