import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadTask } from '../data/tasks/load.js';
import { loadBackbone } from '../models/backbone.js';
import { createPeft } from '../peft/create.js';
import { parsePeftConfig } from '../peft/config.js';
import { trainClassifier, type TrainEvent } from './trainer.js';
import { cacheLayerFor } from './layer-cache.js';

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
