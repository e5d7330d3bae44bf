import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import { loadTask } from '../data/tasks/load.js';
import { loadBackbone, type Backbone } from '../models/backbone.js';
import { writeTinyBert } from '../models/testing/tiny.js';
import { createPeft } from '../peft/create.js';
import { type PeftConfig, parsePeftConfig } from '../peft/config.js';
import { type TrainerOptions, trainClassifier, type TrainEvent } from './trainer.js';
import { cacheLayerFor } from './layer-cache.js';
import { PrefixStore } from './prefix-store.js';
import { compileTraining } from '../runtime/training.js';
import { tensor } from '../runtime/session.js';
import { buildLoss } from './loss.js';

const DATA = join(import.meta.dirname, '../../../shared/data');

test('frozen-prefix caching trains USE-lite exactly like the full forward', {
  skip: !existsSync(join(DATA, 'glue/sst2')) && `no ${DATA}/glue/sst2`,
}, async () => {
  const backbone = await loadBackbone('use-lite');
  const data = await loadTask('sst2', { dataDir: DATA, maxRows: 400 });
  const cfg = parsePeftConfig({ sa: 8, lora: 2, layers: [1] }, backbone.dims.numLayers);
  assert.equal(cacheLayerFor(backbone, cfg, false), 1);
  assert.equal(cacheLayerFor(backbone, parsePeftConfig({ sa: 8 }, 2), false), 0);
  assert.equal(cacheLayerFor(backbone, cfg, true), 0);
  const run = async (cacheLayer: number) => {
    const events: TrainEvent[] = [];
    const out = await trainClassifier({
      backbone,
      task: data.info,
      train: data.train.slice(0, 48),
      eval: data.validation!.slice(0, 24),
      hooks: () => createPeft(cfg, backbone.dims, { seed: 1 }).hooks,
      cacheLayer,
      epochs: 2,
      lr: 1e-3,
      batchSize: 16,
      maxLength: 32,
      seed: 3,
      threads: 1,
      onEvent: (e) => events.push(e),
    });
    await out.release();
    return { out, events };
  };
  const full = await run(0);
  const cached = await run(1);
  assert.ok(
    cached.events.some((e) => e.kind === 'cache' && e.layer === 1 && e.examples === 72),
    'the cache was built',
  );
  assert.ok(!full.events.some((e) => e.kind === 'cache'), 'no cache without cacheLayer');
  assert.deepEqual(
    cached.out.history.map((h) => h.metric),
    full.out.history.map((h) => h.metric),
  );
  for (const [name, t] of full.out.params) {
    const c = cached.out.params.get(name)!;
    let d = 0;
    for (let i = 0; i < t.data.length; i++) d = Math.max(d, Math.abs(t.data[i]! - c.data[i]!));
    assert.ok(d < 1e-4, `${name} differs by ${d}`);
  }
});

test('USE-lite LoRA + prefix adapters (layer 0 is 256 wide) save, load and evaluate to the same score', {
  skip: !existsSync(join(DATA, 'glue/sst2')) && `no ${DATA}/glue/sst2`,
}, async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { runTrial } = await import('./trial.js');
  const { loadPeftAdapter } = await import('../peft/io.js');
  const { evaluateAdapter } = await import('./evaluate.js');
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-uselite-save-'));
  try {
    const r = await runTrial({
      model: 'use-lite',
      task: 'sst2',
      dataDir: DATA,
      peft: parsePeftConfig({ lora: 4, pt: 2, layers: 'all' }, 2),
      hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 32, seed: 0, threads: 1 },
      fidelity: { trainCount: 32 },
      saveDir: dir,
    });
    const adapter = await loadPeftAdapter(dir);
    assert.equal(adapter.weights.get('peft.layer.0.lora.query.A')!.shape.join(), '4,256');
    const backbone = await loadBackbone('use-lite');
    const data = await loadTask('sst2', { dataDir: DATA });
    const ev = await evaluateAdapter({
      backbone,
      adapter,
      task: data.info,
      examples: data.validation!,
      maxLength: 32,
      threads: 1,
    });
    assert.equal(ev.main, r.metric, 'the saved adapter scores the validation split like the trained model');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Trains `cfg` on `backbone` and returns the outcome (released) with its events. */
async function trainWith(
  backbone: Backbone,
  cfg: PeftConfig,
  base: Omit<TrainerOptions, 'backbone' | 'hooks' | 'epochs' | 'lr' | 'maxLength' | 'seed' | 'threads'>,
  extra: Partial<TrainerOptions> = {},
) {
  const events: TrainEvent[] = [];
  const out = await trainClassifier({
    ...base,
    backbone,
    hooks: () => createPeft(cfg, backbone.dims, { seed: 1 }).hooks,
    epochs: 2,
    lr: 1e-2,
    maxLength: 32,
    seed: 3,
    threads: 1,
    onEvent: (e) => events.push(e),
    ...extra,
  });
  await out.release();
  return { out, events, shared: events.find((e) => e.kind === 'cache')?.shared };
}

const maxDiff = (a: Map<string, { data: ArrayLike<number> }>, b: Map<string, { data: ArrayLike<number> }>) => {
  let d = 0;
  for (const [name, t] of a) {
    const c = b.get(name)!;
    for (let i = 0; i < t.data.length; i++) d = Math.max(d, Math.abs(t.data[i]! - c.data[i]!));
  }
  return d;
};

test('USE-lite: rows shared through a PrefixStore (memory, then another store on the same directory) train bit for bit alike', {
  skip: !existsSync(join(DATA, 'glue/sst2')) && `no ${DATA}/glue/sst2`,
}, async () => {
  const backbone = await loadBackbone('use-lite');
  const data = await loadTask('sst2', { dataDir: DATA, maxRows: 400 });
  const cfg = parsePeftConfig({ sa: 8, layers: [1] }, backbone.dims.numLayers);
  const base = {
    task: data.info,
    train: data.train.slice(0, 40),
    eval: data.validation!.slice(0, 24),
    batchSize: 16,
    cacheLayer: 1,
  };
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-prefix-uselite-'));
  try {
    const alone = await trainWith(backbone, cfg, base);
    const first = await trainWith(backbone, cfg, base, { prefixStore: new PrefixStore({ dir }) });
    const other = await trainWith(backbone, cfg, base, { prefixStore: new PrefixStore({ dir }) });
    assert.deepEqual(first.shared, { hits: 0, misses: 2 }, 'the first trial computes the train and eval rows');
    assert.deepEqual(other.shared, { hits: 2, misses: 0 }, 'a later trial (another process) reads both');
    for (const r of [first, other]) {
      assert.deepEqual(
        r.out.history.map((h) => h.metric),
        alone.out.history.map((h) => h.metric),
      );
      assert.equal(maxDiff(alone.out.params, r.out.params), 0, 'the same weights, bit for bit');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Sentences of 2..14 words; label 1 iff "good" occurs. */
function toyExamples(n: number, seed: number): Example[] {
  const words = ['the', 'movie', 'film', 'was', 'bad', 'not', 'fun', 'story', 'plot', 'great', 'this', 'it'];
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) => {
    const len = 2 + Math.floor(rnd() * 13);
    const toks = Array.from({ length: len }, () => words[Math.floor(rnd() * words.length)]!);
    if (i % 2 === 1) toks[Math.floor(rnd() * len)] = 'good';
    return { text: toks.join(' '), label: i % 2 };
  });
}

const TOY: TaskInfo = {
  name: 'toy',
  numLabels: 2,
  regression: false,
  labelNames: ['no', 'yes'],
  metrics: ['accuracy'],
  mainMetric: 'accuracy',
  positiveLabel: 1,
};

test('BERT with frozen dropout 0: cached and shared-store runs train like the uncached one; dropout stays on above k', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-prefix-bert-'));
  try {
    await writeTinyBert(join(dir, 'model'), { layers: 3, hidden: 32, heads: 2, seed: 3, std: 0.1 });
    const backbone = await loadBackbone(join(dir, 'model'));
    const cfg = parsePeftConfig({ sa: 8, lora: 2, layers: [2] }, 3);
    assert.equal(cacheLayerFor(backbone, cfg, false), 0, 'BERT is never cached with its dropout on');
    assert.equal(cacheLayerFor(backbone, cfg, false, true), 2);
    assert.equal(cacheLayerFor(backbone, cfg, true, true), 0, 'nor under full fine-tuning');
    const base = { task: TOY, train: toyExamples(40, 1), eval: toyExamples(24, 2), batchSize: 8 };
    const quiet = { noDropoutBelow: 2 };
    const plain = await trainWith(backbone, cfg, base, quiet);
    const cached = await trainWith(backbone, cfg, base, { ...quiet, cacheLayer: 2 });
    const store = join(dir, 'store');
    const first = await trainWith(backbone, cfg, base, {
      ...quiet,
      cacheLayer: 2,
      prefixStore: new PrefixStore({ dir: store }),
    });
    const other = await trainWith(backbone, cfg, base, {
      ...quiet,
      cacheLayer: 2,
      prefixStore: new PrefixStore({ dir: store }),
    });
    assert.ok(cached.events.some((e) => e.kind === 'cache' && e.layer === 2 && e.examples === 64));
    assert.deepEqual(first.shared, { hits: 0, misses: 2 });
    assert.deepEqual(other.shared, { hits: 2, misses: 0 });
    for (const r of [cached, first, other])
      assert.deepEqual(
        r.out.history.map((h) => h.metrics),
        plain.out.history.map((h) => h.metrics),
      );
    // Cached rows differ from the in-graph forward only by the float rounding of the batch shape.
    assert.ok(maxDiff(plain.out.params, cached.out.params) < 1e-5, `${maxDiff(plain.out.params, cached.out.params)}`);
    assert.equal(maxDiff(cached.out.params, first.out.params), 0);
    assert.equal(maxDiff(cached.out.params, other.out.params), 0);
    // NOTE: ORT's optimizer (level basic and up) removes a Dropout whose mask no gradient reads: those
    // of the frozen layers below the lowest trainable weight. So the model's dropout there was already
    // off at the default session settings, and the switch changes the trained weights not at all;
    // dropout above it stays on.
    const dropoutEverywhere = await trainWith(backbone, cfg, base);
    const noDropoutAtAll = await trainWith(backbone, cfg, base, { noDropoutBelow: 3 });
    assert.equal(maxDiff(plain.out.params, dropoutEverywhere.out.params), 0);
    const dNone = maxDiff(plain.out.params, noDropoutAtAll.out.params);
    assert.ok(dNone > 1e-4, `dropout in layer 2 changes the weights (by ${dNone})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('noDropoutBelow switches the dropout of the frozen layers off (seen with the ORT optimizer off, which keeps it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-frozen-dropout-'));
  try {
    await writeTinyBert(dir, { layers: 3, hidden: 32, heads: 2, seed: 3, std: 0.1 });
    const backbone = await loadBackbone(dir);
    const cfg = parsePeftConfig({ sa: 8, layers: [2] }, 3);
    const B = 2;
    const S = 8;
    const feeds = {
      input_ids: tensor(
        'int64',
        BigInt64Array.from({ length: B * S }, (_, i) => BigInt(5 + (i % 7))),
        [B, S],
      ),
      attention_mask: tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S]),
      token_type_ids: tensor('int64', new BigInt64Array(B * S), [B, S]),
      labels: tensor('int64', BigInt64Array.from([0n, 1n]), [B]),
    };
    const firstLoss = async (noDropoutBelow: number, optimization: 'disabled' | 'basic') => {
      const c = backbone.buildClassifier({
        seqLen: 'seq',
        numLabels: 2,
        seed: 3,
        dropout: true,
        noDropoutBelow,
        hooks: createPeft(cfg, backbone.dims, { seed: 1 }).hooks,
      });
      const p = await compileTraining({
        loss: buildLoss(c.logits, false),
        params: c.graph.params,
        threads: 1,
        optimization,
      });
      try {
        return (await p.step(feeds, 0)).loss;
      } finally {
        await p.release();
      }
    };
    assert.notEqual(await firstLoss(0, 'disabled'), await firstLoss(2, 'disabled'));
    assert.equal(await firstLoss(0, 'basic'), await firstLoss(2, 'basic'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
