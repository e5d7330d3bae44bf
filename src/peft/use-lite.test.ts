/** The PEFT modules on USE-lite (per-layer attention widths 256/512, frozen-prefix caching, merged export). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as ops from '../graph/ops/index.js';
import { loadUseLiteBackbone, type UseLiteBackbone } from '../models/use-lite/backbone.js';
import { buildUseLite, freshUseLiteHead } from '../models/use-lite/graph.js';
import { compileEval } from '../runtime/eval.js';
import { createSession, tensor, type ort } from '../runtime/session.js';
import { compileTraining } from '../runtime/training.js';
import { parsePeftConfig } from './config.js';
import { createPeft } from './create.js';
import { exportMergedOnnx } from './export.js';
import { checkAdapterBackbone, loadPeftAdapter, PeftFileError, savePeftAdapter } from './io.js';
import { peftParamCounts } from './params.js';
import { cacheableLayer } from './types.js';

let bb: UseLiteBackbone;

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

test("frozen-prefix caching: training from cached layer-1 inputs gives the full path's logits, loss and updates", async () => {
  const cfg = parsePeftConfig({ sa: 8, lora: 2, pt: 2, ptBottleneck: 8, layers: [1] }, 2);
  const k = cacheableLayer(cfg);
  assert.equal(k, 1);
  assert.equal(cacheableLayer(parsePeftConfig({ lora: 2 }, 2)), 0);
  assert.equal(cacheableLayer(parsePeftConfig({}, 2)), 2);
  assert.equal(cacheableLayer(cfg, true), 0);
  assert.equal(cacheableLayer(undefined), 0);
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
  const hiddenIn = tensor('float32', cache.assemble(rows, S), [4, S, 512]);
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
});

test('trained adapters: save -> load -> merged ONNX export (LoRA merged and not, PT folded) gives the trained logits', async () => {
  const S = 10;
  const f = feeds(TEXTS, S);
  const labels = tensor('int64', BigInt64Array.from([1n, 0n, 1n, 0n]), [4]);
  const dir = await mkdtemp(join(tmpdir(), 'autopeft-use-lite-'));
  const exportBb = bb.exportBackbone({ seqLen: S, numLabels: 2 });
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
