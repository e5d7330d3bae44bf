/** Training PEFT modules on USE-lite with the trainer, on a real SST-2 slice. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { loadTask } from '../data/tasks/load.js';
import type { Example, TaskInfo } from '../data/tasks/types.js';
import { shapeSize } from '../graph/ir.js';
import { loadUseLiteBackbone, type UseLiteBackbone } from '../models/use-lite/backbone.js';
import { buildUseLite } from '../models/use-lite/graph.js';
import { MISSING_DATA_MESSAGE, SHARED_DATA_DIR } from '../models/use-lite/test-sentences.js';
import { parsePeftConfig } from '../peft/config.js';
import { createPeft, peftTensorSpecs } from '../peft/create.js';
import { trainClassifier } from './trainer.js';

let bb: UseLiteBackbone;
const haveSst2 = existsSync(join(SHARED_DATA_DIR, 'glue/sst2/train.tsv'));

before(() => {
  bb = loadUseLiteBackbone();
});

const sst2: TaskInfo = {
  name: 'sst2',
  numLabels: 2,
  regression: false,
  labelNames: ['negative', 'positive'],
  metrics: ['accuracy'],
  mainMetric: 'accuracy',
  positiveLabel: 1,
};

test('2 training steps on an SST-2 slice change only PEFT + head params (SA, PA, LoRA, PT)', {
  skip: haveSst2 ? false : MISSING_DATA_MESSAGE,
}, async () => {
  const data = await loadTask('sst2', { dataDir: SHARED_DATA_DIR, maxRows: 48, validation: false, splits: ['train'] });
  const train: Example[] = data.train.slice(0, 16);
  const evalSet: Example[] = data.train.slice(16, 24);
  const cases: Record<string, unknown>[] = [{ sa: 8 }, { pa: 8 }, { lora: 2 }, { pt: 2, ptBottleneck: 8 }];
  for (const raw of cases) {
    const cfg = parsePeftConfig(raw, 2);
    const specs = peftTensorSpecs(cfg, bb.dims);
    const init = new Map<string, Float32Array>();
    const out = await trainClassifier({
      backbone: bb,
      task: sst2,
      train,
      eval: evalSet,
      hooks: () => {
        const p = createPeft(cfg, bb.dims, { seed: 5 });
        return p.hooks;
      },
      epochs: 1,
      maxSteps: 2,
      lr: 1e-2,
      batchSize: 8,
      maxLength: 16,
      seqBucket: 16,
      seed: 5,
      weightDecay: 0,
      threads: 2,
    });
    try {
      const what = JSON.stringify(raw);
      assert.equal(out.steps, 2);
      const names = [...out.params.keys()].sort();
      assert.deepEqual(
        names,
        [...specs.map((s) => s.name), 'classifier.bias', 'classifier.weight'].sort(),
        `${what}: trainable = PEFT + head`,
      );
      assert.equal(out.trainableParams, specs.reduce((s, x) => s + shapeSize(x.shape), 0) + bb.headParams(2));
      // Fresh values of the same seed, to see what moved.
      const fresh = createPeft(cfg, bb.dims, { seed: 5 });
      const g = buildUseLite({ model: bb.model, seqLen: 4, hooks: fresh.hooks, head: { numLabels: 2, seed: 5 } }).graph;
      for (const p of g.params) init.set(p.name, g.data.get(p) as Float32Array);
      const moved = (name: string) => {
        const a = out.params.get(name)!.data;
        const b = init.get(name)!;
        return a.some((v, i) => v !== b[i]);
      };
      assert.ok(moved('classifier.weight'), `${what}: head trained`);
      const changed = specs.filter((s) => moved(s.name)).map((s) => s.name);
      if (cfg.sa || cfg.pa) {
        const m = cfg.sa ? 'sa' : 'pa';
        for (const l of [0, 1])
          assert.ok(
            changed.includes(`peft.layer.${l}.${m}.up.weight`),
            `${what}: layer ${l} adapter trained (${changed.join(', ')})`,
          );
      }
      if (cfg.lora) {
        for (const l of [0, 1])
          for (const n of ['query.A', 'value.B'])
            assert.ok(changed.includes(`peft.layer.${l}.lora.${n}`), `${what}: layer ${l} LoRA ${n} trained`);
        // Layer 0 attends at width 256: its LoRA is sized [r, 256] / [256, r], no dead halves.
        assert.deepEqual(out.params.get('peft.layer.0.lora.query.A')!.shape, [2, 256]);
        assert.deepEqual(out.params.get('peft.layer.0.lora.query.B')!.shape, [256, 2]);
        assert.deepEqual(out.params.get('peft.layer.1.lora.query.A')!.shape, [2, 512]);
      }
      if (cfg.pt) {
        assert.ok(
          changed.includes('peft.pt.wte') && changed.includes('peft.pt.mlp.2.weight'),
          `${what}: prefix MLP trained`,
        );
        assert.deepEqual(out.params.get('peft.pt.mlp.2.weight')!.shape, [2 * 256 + 2 * 512, 8]);
        // Every row of the shared MLP's last layer feeds a live prefix column (none is dead).
        const W2 = out.params.get('peft.pt.mlp.2.weight')!.data;
        const W20 = init.get('peft.pt.mlp.2.weight')!;
        for (let row = 0; row < 1536; row++)
          assert.ok(
            [...Array(8).keys()].some((p) => W2[row * 8 + p] !== W20[row * 8 + p]),
            `${what}: W2 row ${row} moved`,
          );
      }
      const r = await out.evaluate(evalSet);
      assert.ok(Number.isFinite(r.main));
    } finally {
      await out.release();
    }
  }
});
