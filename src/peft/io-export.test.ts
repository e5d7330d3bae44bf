/** Save -> load -> same logits, and the exported merged ONNX model -> same logits, for every method. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { softmaxCrossEntropy } from '../graph/ops/index.js';
import { createSession } from '../runtime/session.js';
import { compileTraining } from '../runtime/training.js';
import { isHeadWeight, peftTensorSpecs } from './create.js';
import { initTensor } from './init.js';
import { bertExportBackbone } from '../models/bert/export.js';
import { exportMergedOnnx, withHeadWeights } from './export.js';
import { ADAPTER_CONFIG_FILE, checkAdapterBackbone, loadPeftAdapter, PeftFileError, savePeftAdapter } from './io.js';
import { PeftConfigError } from './config.js';
import {
  buildTiny,
  CASES,
  caseConfig,
  evalLogits,
  LABELS,
  maxAbsDiff,
  SEQ,
  TINY,
  TINY_DIMS,
  tinyFeeds,
  tinyLabels,
  tinyWeights,
  WIDE_DIMS,
} from './testing.js';
import type { PeftConfig } from './config.js';
import type { BackboneDims } from '../models/types.js';
import type { PeftWeights } from './types.js';

/** Fresh PEFT weights of `cfg` at `dims` (what a training run would save, minus the training). */
const freshWeights = (cfg: PeftConfig, dims: BackboneDims): PeftWeights =>
  new Map(
    peftTensorSpecs(cfg, dims).map((s) => [
      s.name,
      { data: initTensor(s, 1, 'float32') as Float32Array, shape: s.shape },
    ]),
  );

// NOTE: a different graph for the same maths (constants instead of fed params, ORT pre-transposed
// weights, the PT MLP folded in float64, LoRA merged into W) agrees to float32 round-off; logits
// here are O(1), so 2e-5 absolute is ~100 ulps of slack.
const TOL = 2e-5;

describe('save / load / export', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autopeft-peft-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.name}: trained weights saved and loaded give the same logits; the merged ONNX model too`, async () => {
      const cfg = caseConfig(c.raw);
      const backbone = tinyWeights();
      const b = buildTiny(cfg, { seed: 2, backbone });
      const labels = b.m.graph.input('labels', 'int64', ['batch']);
      const prog = await compileTraining({ loss: softmaxCrossEntropy(b.logits, labels), threads: 1 });
      const feeds = tinyFeeds();
      for (let i = 0; i < 3; i++) await prog.step({ ...feeds, labels: tinyLabels() }, 5e-2);
      const ev = await prog.evalProgram({ logits: b.logits }, { threads: 1 });
      const ref = (await ev.run(feeds))['logits']!.data as Float32Array;
      await ev.release();
      const trained = prog.readParams();
      await prog.release();
      const weights: PeftWeights = new Map([...trained].filter(([n]) => n.startsWith('peft.')));
      const headWeights: PeftWeights = new Map([...trained].filter(([n]) => isHeadWeight(n)));
      assert.equal(weights.size + headWeights.size, trained.size);

      const out = join(dir, c.name.replace(/\W+/g, '_'));
      await savePeftAdapter(out, {
        config: cfg,
        backbone: { id: 'tiny-random-bert', type: 'bert', dims: TINY_DIMS },
        head: { kind: 'classification', numLabels: LABELS },
        headWeights,
        weights,
        task: 'test',
      });
      const loaded = await loadPeftAdapter(out);
      assert.deepEqual(loaded.config, cfg);
      assert.deepEqual(loaded.backbone.dims, TINY_DIMS);
      assert.deepEqual([...loaded.weights.keys()].sort(), [...weights.keys()].sort());
      for (const [n, t] of weights) assert.deepEqual(loaded.weights.get(n)!.data, t.data, n);
      for (const [n, t] of headWeights) assert.deepEqual(loaded.headWeights.get(n)!.data, t.data, n);

      // Same graph (trainable form) from the loaded weights: bit-identical logits.
      checkAdapterBackbone(loaded, TINY_DIMS);
      const withHead = withHeadWeights(backbone, loaded.headWeights);
      const again = await evalLogits(buildTiny(loaded.config, { weights: loaded.weights, backbone: withHead }), feeds);
      assert.deepEqual(again, ref);

      // Frozen form (constants; PT folded).
      const frozen = buildTiny(loaded.config, {
        mode: 'frozen',
        weights: loaded.weights,
        backbone: withHead,
        frozenHead: true,
      });
      assert.equal(frozen.m.graph.params.length, 0);
      const fl = await evalLogits(frozen, feeds);
      assert.ok(maxAbsDiff(fl, ref) < TOL, `frozen form: max |diff| ${maxAbsDiff(fl, ref)}`);

      // Exported merged ONNX (standard ops only), LoRA merged or not.
      const bb = bertExportBackbone(TINY, backbone, { seqLen: SEQ, numLabels: LABELS });
      for (const mergeLora of [true, false]) {
        const model = await exportMergedOnnx(bb, loaded, { mergeLora });
        const s = await createSession(model, { threads: 1 });
        const logits = (await s.run(feeds))['logits']!.data as Float32Array;
        await s.release();
        const d = maxAbsDiff(logits, ref);
        assert.ok(d < TOL, `exported (mergeLora=${mergeLora}): max |diff| ${d}`);
        if (cfg.pt > 0) assert.ok(!model.inputs.some((v) => v.name.startsWith('peft.')));
      }
      // The logits really depend on the trained adapter (guards against comparing two frozen models).
      const untrained = await evalLogits(buildTiny(cfg, { seed: 2, backbone: tinyWeights() }), feeds);
      assert.ok(maxAbsDiff(untrained, ref) > 1e-3);
    });
  }

  it('merged LoRA leaves no LoRA tensor in the exported graph; export writes a file', async () => {
    const cfg = caseConfig({ lora: 2, sa: 1 });
    const b = buildTiny(cfg, { seed: 4 });
    const w: PeftWeights = new Map(
      b.peft.params.map((p) => [p.name, { data: b.m.graph.data.get(p) as Float32Array, shape: p.shape as number[] }]),
    );
    const bb = bertExportBackbone(TINY, tinyWeights(), { seqLen: SEQ, numLabels: LABELS });
    const path = join(dir, 'model.onnx');
    const model = await exportMergedOnnx(bb, { config: cfg, weights: w, headWeights: new Map() }, { path });
    const s = await createSession({ ...model, bytes: undefined, path }, { threads: 1 });
    assert.deepEqual(s.outputNames, ['logits']);
    await s.release();
    const text = Buffer.from(model.bytes!).toString('latin1');
    assert.ok(!text.includes('.lora.'), 'LoRA tensors should be merged away');
    assert.ok(text.includes('peft.layer.0.sa.down.weight'));
  });

  it('load: one-line typed errors for a missing folder, a bad config, mismatched weights', async () => {
    await assert.rejects(
      loadPeftAdapter(join(dir, 'nope')),
      (e: unknown) => e instanceof PeftFileError && /autopeft_adapter\.json: not found/.test(e.message),
    );
    const cfg = caseConfig({ sa: 2 });
    const b = buildTiny(cfg);
    const w: PeftWeights = new Map(
      b.peft.params.map((p) => [p.name, { data: b.m.graph.data.get(p) as Float32Array, shape: p.shape as number[] }]),
    );
    const out = join(dir, 'bad');
    await savePeftAdapter(out, {
      config: cfg,
      backbone: { id: 'x', dims: TINY_DIMS },
      weights: w,
      headWeights: new Map(),
    });
    const good = JSON.parse(
      await import('node:fs/promises').then((f) => f.readFile(join(out, ADAPTER_CONFIG_FILE), 'utf8')),
    ) as Record<string, unknown> & { peft: Record<string, unknown> };
    await writeFile(join(out, ADAPTER_CONFIG_FILE), JSON.stringify({ ...good, peft: { ...good.peft, sa: 3 } }));
    await assert.rejects(
      loadPeftAdapter(out),
      (e: unknown) => e instanceof PeftFileError && /has shape \[2,16\], its config needs \[3,16\]/.test(e.message),
    );
    await writeFile(join(out, ADAPTER_CONFIG_FILE), JSON.stringify({ ...good, peft: { ...good.peft, pa: 2 } }));
    await assert.rejects(loadPeftAdapter(out), /missing PEFT tensor 'peft\.layer\.0\.pa\.down\.weight'/);
    await writeFile(join(out, ADAPTER_CONFIG_FILE), '{oops');
    await assert.rejects(loadPeftAdapter(out), /not valid JSON/);
    await writeFile(join(out, ADAPTER_CONFIG_FILE), JSON.stringify({ ...good, format: 'other' }));
    await assert.rejects(loadPeftAdapter(out), /"format" must be "autopeft-adapter"/);
    await writeFile(join(out, ADAPTER_CONFIG_FILE), JSON.stringify(good));
    const ok = await loadPeftAdapter(out);
    assert.equal(ok.weights.size, w.size);
    assert.throws(
      () => checkAdapterBackbone(ok, { ...TINY_DIMS, hidden: 32 }),
      (e: unknown) =>
        e instanceof PeftFileError &&
        /trained on 'x' \(2 layers, hidden 16, 2 heads\) but the model has 2 layers, hidden 32/.test(e.message),
    );
    const head = new Map([['classifier.weight', { data: new Float32Array(16 * 5), shape: [5, 16] }]]);
    assert.throws(
      () => withHeadWeights(tinyWeights(), head),
      (e: unknown) => e instanceof PeftConfigError && /has shape \[5,16\], the model's is \[3,16\]/.test(e.message),
    );
  });

  it('per-layer attention widths: saved and checked; adapters sized by one hidden size are refused with the tensor named', async () => {
    const lora = caseConfig({ lora: 2 });
    // Saved with widths [8, 16]: the dims round-trip, and the model's dims must match them.
    const out = join(dir, 'wide');
    await savePeftAdapter(out, {
      config: lora,
      backbone: { id: 'wide', dims: WIDE_DIMS },
      weights: freshWeights(lora, WIDE_DIMS),
      headWeights: new Map(),
    });
    const ok = await loadPeftAdapter(out);
    assert.deepEqual(ok.backbone.dims, { ...WIDE_DIMS, attentionWidths: [8, 16] });
    assert.deepEqual(ok.weights.get('peft.layer.0.lora.query.A')!.shape, [2, 8]);
    checkAdapterBackbone(ok, WIDE_DIMS);
    assert.throws(
      () => checkAdapterBackbone(ok, { ...WIDE_DIMS, attentionWidths: undefined }),
      (e: unknown) =>
        e instanceof PeftFileError &&
        /trained on 'wide'\) has attention widths \[8,16\] per layer but the model attends at \[16,16\] \('peft\.layer\.0\.lora\.query\.A' is \[2,8\], the model needs \[2,16\]\)/.test(
          e.message,
        ),
    );
    // An adapter saved before per-layer widths (one hidden size, no widths recorded) ...
    const old = join(dir, 'old');
    await savePeftAdapter(old, {
      config: lora,
      backbone: { id: 'old', dims: TINY_DIMS },
      weights: freshWeights(lora, TINY_DIMS),
      headWeights: new Map(),
    });
    const loadedOld = await loadPeftAdapter(old);
    assert.throws(
      () => checkAdapterBackbone(loadedOld, WIDE_DIMS),
      (e: unknown) =>
        e instanceof PeftFileError &&
        /'peft\.layer\.0\.lora\.query\.A' is \[2,16\], the model needs \[2,8\]\); adapters saved before per-layer widths must be retrained/.test(
          e.message,
        ),
    );
    // ... or with the widths recorded but 16-wide layer-0 tensors: loading names the tensor and shape.
    const json = JSON.parse(
      await import('node:fs/promises').then((f) => f.readFile(join(old, ADAPTER_CONFIG_FILE), 'utf8')),
    ) as Record<string, unknown> & { backbone: Record<string, unknown> };
    await writeFile(
      join(old, ADAPTER_CONFIG_FILE),
      JSON.stringify({ ...json, backbone: { ...json.backbone, dims: WIDE_DIMS } }),
    );
    await assert.rejects(
      loadPeftAdapter(old),
      (e: unknown) =>
        e instanceof PeftFileError &&
        /'peft\.layer\.0\.lora\.query\.A' has shape \[2,16\], its config needs \[2,8\]/.test(e.message),
    );
    await writeFile(
      join(old, ADAPTER_CONFIG_FILE),
      JSON.stringify({ ...json, backbone: { ...json.backbone, dims: { ...WIDE_DIMS, attentionWidths: [8] } } }),
    );
    await assert.rejects(
      loadPeftAdapter(old),
      (e: unknown) => e instanceof PeftFileError && /optional "attentionWidths" \(one per layer\)/.test(e.message),
    );
    // SA/PA do not depend on attention widths: an adapter without recorded widths still fits.
    const sa = caseConfig({ sa: 2, pa: 2 });
    checkAdapterBackbone({ backbone: { id: 'sa', dims: TINY_DIMS }, config: sa }, WIDE_DIMS);
  });
});
