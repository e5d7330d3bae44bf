import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { shapeSize } from '../../graph/ir.js';
import * as ops from '../../graph/ops/index.js';
import { loadTask } from '../../data/tasks/load.js';
import type { Example, TaskInfo } from '../../data/tasks/types.js';
import { parsePeftConfig, toSearchConfig } from '../../peft/config.js';
import { createPeft, peftTensorSpecs } from '../../peft/create.js';
import { peftParamCounts } from '../../peft/params.js';
import { paramPct } from '../../search/space/autopeft.js';
import { compileEval } from '../../runtime/eval.js';
import { compileTraining } from '../../runtime/training.js';
import { tensor, type ort } from '../../runtime/session.js';
import { trainClassifier } from '../../train/trainer.js';
import { buildUseLite, freshUseLiteHead } from './graph.js';
import {
  cacheableLayer,
  loadUseLiteBackbone,
  useLiteExportBackbone,
  UseLiteLayerCache,
  type UseLiteBackbone,
} from './backbone.js';
import { exportMergedOnnx } from '../../peft/export.js';
import { checkAdapterBackbone, loadPeftAdapter, PeftFileError, savePeftAdapter } from '../../peft/io.js';
import { createSession } from '../../runtime/session.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { MISSING_DATA_MESSAGE, SHARED_DATA_DIR } from './test-sentences.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

let bb: UseLiteBackbone;
const haveSst2 = existsSync(join(SHARED_DATA_DIR, 'glue/sst2/train.tsv'));

before(() => {
  bb = loadUseLiteBackbone();
});

const TEXTS = ['a gripping , funny film', 'dull and far too long', 'it is not a bad movie at all', 'fine'];

function feeds(texts: readonly string[], S: number): Record<string, ort.Tensor> {
  const B = texts.length;
  const ids = new BigInt64Array(B * S).fill(BigInt(bb.tokenizer.padId));
  const mask = new BigInt64Array(B * S);
  texts.forEach((s, b) => {
    bb.tokenizer.encode(s, undefined, S).inputIds.forEach((v, t) => {
      ids[b * S + t] = BigInt(v);
      mask[b * S + t] = 1n;
    });
  });
  return { input_ids: tensor('int64', ids, [B, S]), attention_mask: tensor('int64', mask, [B, S]) };
}

test('dims, parameter counts, and what full fine-tuning trains', () => {
  assert.deepEqual({ ...bb.dims }, { numLayers: 2, hidden: 512, numHeads: 4, attentionWidths: [256, 512] });
  assert.equal(bb.kind, 'use-lite');
  assert.equal(bb.maxLength, 128);
  assert.equal(bb.headParams(3), 3 * 512 + 3);
  // Every weight of the encoder once: the frozen graph's constants named use_lite.* (timing signal excluded).
  const g = buildUseLite({ model: bb.model, seqLen: 4 }).graph;
  const encoder = g.constants.filter((c) => c.name.startsWith('use_lite.') && c.name !== 'use_lite.timing_signal');
  assert.equal(
    bb.backboneParams,
    encoder.reduce((s, c) => s + shapeSize(c.shape), 0),
  );
  assert.equal(bb.backboneParams, 6_975_744);
  const full = bb.buildClassifier({ seqLen: 4, numLabels: 2, seed: 1, dropout: false, fullFineTune: true });
  assert.equal(full.graph.paramCount(), bb.backboneParams - 8002 * 256 + bb.headParams(2));
  assert.ok(full.graph.constants.some((c) => c.name === 'use_lite.embeddings'));
  const peft = bb.buildClassifier({ seqLen: 4, numLabels: 2, seed: 1, dropout: false });
  assert.deepEqual(
    peft.graph.params.map((p) => p.name),
    ['classifier.weight', 'classifier.bias'],
  );
  assert.deepEqual(peft.inputNames, ['input_ids', 'attention_mask']);
  assert.equal(cacheableLayer(parsePeftConfig({ sa: 8, layers: [1] }, 2)), 1);
  assert.equal(cacheableLayer(parsePeftConfig({ lora: 2 }, 2)), 0);
  assert.equal(cacheableLayer(parsePeftConfig({}, 2)), 2);
  assert.equal(cacheableLayer(parsePeftConfig({ sa: 8, layers: [1] }, 2), true), 0);
});

test('exact counts at the native attention widths (layer 0 attends at 256): LoRA and PT on both layers', () => {
  const head = bb.headParams(2);
  const counts = (raw: Record<string, unknown>) => {
    const cfg = parsePeftConfig(raw, 2);
    const c = peftParamCounts(cfg, bb.dims, { backboneParams: bb.backboneParams, headParams: head });
    const built = bb.buildClassifier({
      seqLen: 4,
      numLabels: 2,
      seed: 1,
      dropout: false,
      hooks: createPeft(cfg, bb.dims).hooks,
    });
    assert.equal(built.graph.paramCount(), c.trainable, `${JSON.stringify(raw)}: the built graph's trainable count`);
    // The search objective (paramPct with the backbone's widths) is the paper formula.
    const pct = paramPct(toSearchConfig(cfg), {
      numLayers: 2,
      hidden: 512,
      backboneParams: bb.backboneParams,
      attentionWidths: bb.dims.attentionWidths,
    });
    assert.ok(Math.abs(pct - c.paperPct) < 1e-12, `${pct} vs ${c.paperPct}`);
    return c;
  };
  // LoRA r=8 on q and v: 2 (r*256 + 256*r) + 2 (r*512 + 512*r) + head.
  const lora = counts({ lora: 8 });
  assert.deepEqual([lora.paper, lora.peft, lora.trainable, lora.inference], [24_576, 24_576, 24_576 + 1_026, 24_576]);
  assert.equal(lora.trainable, 2 * (8 * 256 + 256 * 8) + 2 * (8 * 512 + 512 * 8) + head);
  // PT L=16, MLP 800: E [16, 512], W1 [800, 512] + b1, W2 [2*256 + 2*512, 800] + b2; folded rows 2*16*(256+512).
  const pt = counts({ pt: 16 });
  assert.deepEqual([pt.paper, pt.peft, pt.trainable, pt.inference], [24_576, 1_648_928, 1_648_928 + 1_026, 24_576]);
  assert.equal(pt.peft, 16 * 512 + 800 * 512 + 800 + 1536 * 800 + 1536);
  // SA/PA live on the 512-wide stream in both layers.
  assert.equal(counts({ sa: 64 }).paper, 2 * 2 * 512 * 64);
  assert.equal(counts({ pt: 2, lora: 4, layers: [0] }).paper, 2 * 256 * 2 + 4 * 256 * 4);
});

test('an adapter saved with 512-wide layer-0 LoRA tensors (before per-layer widths) is refused, naming the tensor', () => {
  const cfg = parsePeftConfig({ lora: 8 }, 2);
  const old = {
    backbone: { id: 'use-lite', type: 'use-lite', dims: { numLayers: 2, hidden: 512, numHeads: 4 } },
    config: cfg,
  };
  assert.throws(
    () => checkAdapterBackbone(old, bb.dims),
    (e: unknown) =>
      e instanceof PeftFileError &&
      /'peft\.layer\.0\.lora\.query\.A' is \[8,512\], the model needs \[8,256\]/.test(e.message),
  );
  // SA/PA adapters do not depend on the attention widths.
  checkAdapterBackbone({ ...old, config: parsePeftConfig({ sa: 8, pa: 4 }, 2) }, bb.dims);
});

test('fresh SA / PA / LoRA (every layer) and a no-op config reproduce the frozen embeddings', async () => {
  const S = 10;
  const f = feeds(TEXTS, S);
  const frozen = buildUseLite({ model: bb.model, seqLen: S });
  const ev0 = await compileEval(frozen.graph, { e: frozen.embedding! }, { threads: 2 });
  const want = (await ev0.run(f)).e.data as Float32Array;
  await ev0.release();
  for (const raw of [{ sa: 16 }, { pa: 8 }, { lora: 4 }, { sa: 0, pa: 0, pt: 0, lora: 0 }]) {
    const cfg = parsePeftConfig(raw, 2);
    const peft = createPeft(cfg, bb.dims, { seed: 3 });
    const built = buildUseLite({ model: bb.model, seqLen: S, hooks: peft.hooks });
    if (Object.keys(raw).some((k) => (raw as Record<string, number>)[k] > 0)) {
      peft.assertBuilt();
      assert.ok(built.graph.params.length > 0, `${JSON.stringify(raw)} created params`);
    } else assert.equal(built.graph.params.length, 0);
    const ev = await compileEval(built.graph, { e: built.embedding! }, { threads: 2, params: built.graph.params });
    const got = (await ev.run(f)).e.data as Float32Array;
    await ev.release();
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `${JSON.stringify(raw)} element ${i}: ${got[i]} vs ${want[i]}`);
  }
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

test("frozen-prefix caching: training from cached layer-1 inputs gives the full path's logits, loss and updates", async () => {
  const cfg = parsePeftConfig({ sa: 8, lora: 2, pt: 2, ptBottleneck: 8, layers: [1] }, 2);
  const k = cacheableLayer(cfg);
  assert.equal(k, 1);
  const S = 12;
  const f = feeds(TEXTS, S);
  const labels = tensor('int64', BigInt64Array.from([1n, 0n, 1n, 0n]), [4]);
  const program = async (fromLayer: number) => {
    const built = bb.buildClassifier({
      seqLen: S,
      numLabels: 2,
      seed: 9,
      dropout: true,
      hooks: createPeft(cfg, bb.dims, { seed: 9 }).hooks,
      fromLayer,
    });
    const y = built.graph.input('labels', 'int64', ['batch']);
    const loss = ops.softmaxCrossEntropy(built.logits, y);
    return {
      inputs: built.inputNames,
      prog: await compileTraining({ loss, params: built.graph.params, outputs: { logits: built.logits }, threads: 2 }),
    };
  };
  const full = await program(0);
  const cached = await program(k);
  assert.deepEqual(cached.inputs, ['hidden_in', 'attention_mask']);
  // Per-example rows (computed in their own length-sorted batches), assembled into this batch.
  const cache = bb.layerCache(k, { threads: 2, batchSize: 3 });
  const rows = await cache.compute(TEXTS.map((t) => bb.tokenizer.encode(t, undefined, S).inputIds));
  assert.equal(rows[3].length, bb.tokenizer.encode(TEXTS[3]).inputIds.length * 512);
  const hiddenIn = tensor('float32', cache.assemble(rows, S), [4, S, 512]);
  assert.deepEqual(cache.assemble(rows, S), UseLiteLayerCache.assemble(rows, S, 512));
  assert.throws(() => cache.assemble(rows, 2), /more than the batch length 2/);
  await cache.release();
  try {
    for (let step = 0; step < 2; step++) {
      const a = await full.prog.step({ ...f, labels }, 1e-2);
      const b = await cached.prog.step({ hidden_in: hiddenIn, attention_mask: f.attention_mask, labels }, 1e-2);
      const la = a.outputs.logits.data as Float32Array;
      const lb = b.outputs.logits.data as Float32Array;
      for (let i = 0; i < la.length; i++)
        assert.ok(Math.abs(la[i] - lb[i]) < 1e-5, `step ${step} logit ${i}: ${la[i]} vs ${lb[i]}`);
      assert.ok(Math.abs(a.loss - b.loss) < 1e-5);
    }
    const pa = full.prog.readParams();
    const pb = cached.prog.readParams();
    assert.deepEqual([...pa.keys()], [...pb.keys()]);
    for (const [name, t] of pa) {
      const u = pb.get(name)!.data;
      t.data.forEach((v, i) => {
        assert.ok(Math.abs(v - u[i]) < 1e-5, `${name}[${i}]: ${v} vs ${u[i]}`);
      });
    }
  } finally {
    await Promise.all([full.prog.release(), cached.prog.release()]);
  }
});

test('fromLayer above a PEFT module is refused (the module would vanish)', () => {
  for (const raw of [{ sa: 4 }, { lora: 2 }, { pt: 2, ptBottleneck: 0 }, { pa: 4, layers: [0] }]) {
    const cfg = parsePeftConfig(raw, 2);
    assert.throws(
      () =>
        bb.buildClassifier({
          seqLen: 4,
          numLabels: 2,
          seed: 0,
          dropout: false,
          hooks: createPeft(cfg, bb.dims).hooks,
          fromLayer: 1,
        }),
      /fromLayer 1 skips layer 0, which has a PEFT module/,
      JSON.stringify(raw),
    );
  }
  const ok = bb.buildClassifier({
    seqLen: 4,
    numLabels: 2,
    seed: 0,
    dropout: false,
    hooks: createPeft(parsePeftConfig({ sa: 4, lora: 2, layers: [1] }, 2), bb.dims).hooks,
    fromLayer: 1,
  });
  assert.deepEqual(ok.inputNames, ['hidden_in', 'attention_mask']);
  assert.throws(
    () => bb.buildClassifier({ seqLen: 4, numLabels: 2, seed: 0, dropout: false, fullFineTune: true, fromLayer: 1 }),
    /full fine-tuning/,
  );
});

test('trained adapters: save -> load -> merged ONNX export (LoRA merged and not, PT folded) gives the trained logits', async () => {
  const S = 10;
  const f = feeds(TEXTS, S);
  const labels = tensor('int64', BigInt64Array.from([1n, 0n, 1n, 0n]), [4]);
  const dir = await mkdtemp(join(tmpdir(), 'autopeft-use-lite-'));
  const exportBb = useLiteExportBackbone(bb, { seqLen: S, numLabels: 2 });
  try {
    const cases: [Record<string, unknown>, boolean][] = [
      [{ sa: 4 }, true],
      [{ lora: 2 }, true],
      [{ lora: 2 }, false],
      [{ pt: 2, ptBottleneck: 8 }, true],
      [{ pa: 4, lora: 2, layers: [0] }, true],
    ];
    for (const [k, [raw, mergeLora]] of cases.entries()) {
      const what = `${JSON.stringify(raw)} mergeLora ${mergeLora}`;
      const cfg = parsePeftConfig(raw, 2);
      const built = buildUseLite({
        model: bb.model,
        seqLen: S,
        hooks: createPeft(cfg, bb.dims, { seed: 4 }).hooks,
        head: { numLabels: 2, seed: 4 },
      });
      const y = built.graph.input('labels', 'int64', ['batch']);
      const prog = await compileTraining({ loss: ops.softmaxCrossEntropy(built.logits!, y), threads: 2 });
      for (let i = 0; i < 2; i++) await prog.step({ ...f, labels }, 5e-2);
      const ev = await prog.evalProgram({ logits: built.logits! }, { threads: 2 });
      const ref = (await ev.run(f)).logits.data as Float32Array;
      await ev.release();
      const trained = prog.readParams();
      await prog.release();
      const out = join(dir, String(k));
      await savePeftAdapter(out, {
        config: cfg,
        backbone: { id: 'use-lite', type: 'use-lite', dims: bb.dims },
        head: { kind: 'classification', numLabels: 2 },
        weights: new Map([...trained].filter(([n]) => n.startsWith('peft.'))),
        headWeights: new Map([...trained].filter(([n]) => n.startsWith('classifier.'))),
      });
      const loaded = await loadPeftAdapter(out);
      const model = await exportMergedOnnx(
        exportBb,
        { config: loaded.config, weights: loaded.weights, headWeights: loaded.headWeights },
        { mergeLora },
      );
      const session = await createSession(model, { threads: 2 });
      const got = (await session.run(f)).logits.data as Float32Array;
      await session.release();
      const scale = Math.max(1, ...Array.from(ref, Math.abs));
      for (let i = 0; i < ref.length; i++)
        assert.ok(Math.abs(got[i] - ref[i]) < 2e-5 * scale, `${what} logit ${i}: ${got[i]} vs ${ref[i]}`);
      // Training moved the logits away from the fresh model's, so the comparison has teeth.
      assert.ok(
        trained
          .get('classifier.weight')!
          .data.some((v, i) => v !== freshUseLiteHead(2, 512, 4).get('classifier.weight')!.data[i]),
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
