/**
 * Siamese pair training (models/types.ts `PairEncoding`) through the PEFT modules and the trainer:
 * - gradients of the siamese graph (both texts through the same PEFT modules, every pair head)
 *   against finite differences on a tiny USE-lite;
 * - where the two paths must agree: a siamese text's embedding is the single-text (cross-path)
 *   embedding of that text under the same PEFT weights, and on pairs (a, a) the head's v block acts
 *   as its u block and its |u - v| block not at all;
 * - training on MRPC: cached == full, and a saved siamese adapter evaluates to the trained score.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTask } from '../data/tasks/load.js';
import type { Graph } from '../graph/ir.js';
import { loadBackbone } from '../models/backbone.js';
import { PAIR_HEADS, type PairHead } from '../models/types.js';
import { loadUseLiteBackbone } from '../models/use-lite/backbone.js';
import { buildUseLite, useLiteDims } from '../models/use-lite/graph.js';
import { tinyUseLite } from '../models/use-lite/testing/tiny.js';
import { parsePeftConfig, type PeftConfig } from '../peft/config.js';
import { createPeft, peftTensorSpecs } from '../peft/create.js';
import { loadPeftAdapter } from '../peft/io.js';
import { shapeSize, type PeftWeights } from '../peft/types.js';
import type { BackboneDims } from '../models/types.js';
import { compileEval } from '../runtime/eval.js';
import { tensor, type ort } from '../runtime/session.js';
import { gradcheck } from '../testing/gradcheck.js';
import { Rng } from '../testing/random.js';
import { evaluateAdapter } from './evaluate.js';
import { trainClassifier, type TrainEvent } from './trainer.js';
import { runTrial } from './trial.js';

const DATA = join(import.meta.dirname, '../../../shared/data');
const haveMrpc = existsSync(join(DATA, 'glue/mrpc'));

/** Random non-zero PEFT weights (at the no-op init the gradients of down/A are exactly zero). */
function randomPeft(cfg: PeftConfig, dims: BackboneDims, seed: number, std: number): PeftWeights {
  const rng = new Rng(seed);
  return new Map(
    peftTensorSpecs(cfg, dims).map((s) => {
      const data = rng.float32(shapeSize(s.shape), std);
      // Adapter pre-activations away from the ReLU kink: small down-projections, biases +-1.
      for (let i = 0; i < data.length; i++) {
        if (s.name.endsWith('.down.weight')) data[i] = data[i]! * 0.1;
        if (s.name.endsWith('.down.bias')) data[i] = i % 2 === 0 ? 1 : -1;
      }
      return [s.name, { data, shape: s.shape }];
    }),
  );
}

for (const head of PAIR_HEADS) {
  test(`gradcheck: the siamese graph (SA + LoRA + prefix shared by both texts, ${head} head) on a tiny USE-lite`, async () => {
    const model = tinyUseLite({ seed: 11 });
    const dims = useLiteDims(model);
    // NOTE: loraAlpha 2 (scale 2): at the default scale 16 a finite-difference step of 1e-2 is too
    // large a move for float32 central differences (the single-text graph fails alike).
    const cfg = parsePeftConfig({ sa: 2, lora: 1, loraAlpha: 2, pt: 1, ptBottleneck: 3, layers: 'all' }, 2);
    const numLabels = head === 'cosine' ? 1 : 2;
    // 2 pairs of lengths (3, 2) and (1, 3), padded to 3; every text differs from its partner.
    const ids = (rows: number[][]) => ({
      ids: tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [2, 3]),
      mask: tensor('int64', BigInt64Array.from(rows.flat().map((t) => (t > 0 ? 1n : 0n))), [2, 3]),
    });
    const a = ids([
      [1, 2, 3],
      [4, 0, 0],
    ]);
    const b = ids([
      [5, 3, 0],
      [2, 1, 4],
    ]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: a.ids,
      attention_mask: a.mask,
      input_ids_b: b.ids,
      attention_mask_b: b.mask,
    };
    const res = await gradcheck(
      (g: Graph) => {
        const peft = createPeft(cfg, dims, { seed: 2, weights: randomPeft(cfg, dims, 5, 0.3) });
        const built = buildUseLite({
          model,
          seqLen: 3,
          batch: 2,
          graph: g,
          siamese: true,
          hooks: peft.hooks,
          head: { numLabels, seed: 3, pairHead: head, labelRange: [0, 5] },
        });
        peft.assertBuilt();
        return { out: built.logits!, wrt: [...peft.params, ...built.headParams], feeds };
      },
      { dtype: 'float32', seed: 9 },
    );
    assert.equal(res.failures.length, 0, res.failures.join('\n'));
    assert.ok(res.checked > 100, `checked ${res.checked} entries`);
  });
}

test('siamese and cross paths agree where they must (PEFT weights shared, pairs (a, a))', async () => {
  const bb = loadUseLiteBackbone();
  const cfg = parsePeftConfig({ sa: 8, lora: 2, pt: 2, ptBottleneck: 4, layers: 'all' }, 2);
  const weights = randomPeft(cfg, bb.dims, 7, 0.05);
  const texts = ['the cat sat on the mat', 'stocks fell sharply on monday', 'he said no'];
  const S = 10;
  const stream = (ts: readonly string[]) => {
    const ids = new BigInt64Array(ts.length * S).fill(BigInt(bb.tokenizer.padId));
    const mask = new BigInt64Array(ts.length * S);
    ts.forEach((s, r) => {
      bb.tokenizer.encode(s, undefined, S).inputIds.forEach((v, t) => {
        ids[r * S + t] = BigInt(v);
        mask[r * S + t] = 1n;
      });
    });
    return { ids: tensor('int64', ids, [ts.length, S]), mask: tensor('int64', mask, [ts.length, S]) };
  };
  const H = 512;
  const W1 = new Rng(3).float32(2 * H, 0.05);
  const bias = Float32Array.of(0.1, -0.2);
  /** Logits and embeddings of `first` (and, siamese, `second`) with head weight `weight`. */
  const run = async (weight: Float32Array, first: readonly string[], second?: readonly string[]) => {
    const peft = createPeft(cfg, bb.dims, { mode: 'frozen', weights });
    const built = buildUseLite({
      model: bb.model,
      seqLen: S,
      siamese: second !== undefined,
      hooks: peft.hooks,
      head: {
        numLabels: 2,
        trainable: false,
        pairHead: 'linear',
        weights: new Map([
          ['classifier.weight', { data: weight }],
          ['classifier.bias', { data: bias }],
        ]),
      },
    });
    const [u, v] = built.pairEmbeddings ?? [built.embedding!, built.embedding!];
    const ev = await compileEval(built.graph, { logits: built.logits!, u, v }, { threads: 1 });
    try {
      const x = stream(first);
      const y = second && stream(second);
      const r = await ev.run({
        input_ids: x.ids,
        attention_mask: x.mask,
        ...(y ? { input_ids_b: y.ids, attention_mask_b: y.mask } : {}),
      });
      return { logits: r.logits!.data as Float32Array, u: r.u!.data as Float32Array, v: r.v!.data as Float32Array };
    } finally {
      await ev.release();
    }
  };
  const close = (p: Float32Array, q: Float32Array, what: string, tol: number) => {
    assert.equal(p.length, q.length, what);
    let worst = 0;
    for (let i = 0; i < p.length; i++) worst = Math.max(worst, Math.abs(p[i]! - q[i]!));
    assert.ok(worst <= tol, `${what}: differs by ${worst}`);
  };
  /** The siamese head weight [2, 4H] with W1 in feature block k (0 u, 1 v, 2 |u - v|, 3 u * v). */
  const block = (k: number) => {
    const w = new Float32Array(2 * 4 * H);
    for (let c = 0; c < 2; c++) w.set(W1.subarray(c * H, (c + 1) * H), c * 4 * H + k * H);
    return w;
  };
  const reversed = [...texts].reverse();
  const single = await run(W1, texts);
  const singleReversed = await run(W1, reversed);
  // The siamese u and v are the single-text embeddings of each side, PEFT modules included.
  const pair = await run(block(0), texts, reversed);
  close(pair.u, single.u, 'u', 2e-5);
  close(pair.v, singleReversed.u, 'v', 2e-5);
  // The u block alone: the single-text logits (both heads read sqrt(512) u).
  close(pair.logits, single.logits, 'u-block logits', 1e-4);
  // Pairs (a, a): u = v exactly, so the v block acts as the u block and |u - v| contributes nothing.
  const same = await run(block(1), texts, texts);
  close(same.u, same.v, 'u = v on (a, a)', 0);
  close(same.logits, single.logits, 'v-block logits on (a, a)', 1e-4);
  const diff = await run(block(2), texts, texts);
  for (let r = 0; r < texts.length; r++)
    close(diff.logits.subarray(2 * r, 2 * r + 2), bias, '|u - v| block on (a, a)', 1e-6);
});

test('siamese training on MRPC: cached == full; a saved siamese adapter evaluates to the trained score', {
  skip: !haveMrpc && `no ${DATA}/glue/mrpc`,
}, async () => {
  const backbone = await loadBackbone('use-lite');
  const data = await loadTask('mrpc', { dataDir: DATA, maxRows: 200 });
  const cfg = parsePeftConfig({ sa: 8, lora: 2, layers: [1] }, 2);
  const run = async (cacheLayer: number, pairHead: PairHead = 'linear') => {
    const events: TrainEvent[] = [];
    const out = await trainClassifier({
      backbone,
      task: data.info,
      train: data.train.slice(0, 48),
      eval: data.validation!.slice(0, 16),
      hooks: () => createPeft(cfg, backbone.dims, { seed: 1 }).hooks,
      cacheLayer,
      pairEncoding: 'siamese',
      pairHead,
      epochs: 1,
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
  // Both streams cached: 2 texts for each of the 64 examples' rows.
  assert.ok(cached.events.some((e) => e.kind === 'cache' && e.layer === 1 && e.examples === 64));
  assert.deepEqual(
    cached.out.history.map((h) => h.metric),
    full.out.history.map((h) => h.metric),
  );
  // SA 8 (down, up + biases) and LoRA 2 on query and value (A, B) in layer 1, and the pair head.
  const peftCount = 2 * 8 * 512 + 8 + 512 + 2 * 2 * 2 * 512;
  assert.equal(full.out.trainableParams, peftCount + backbone.headParams(2, { encoding: 'siamese', head: 'linear' }));
  for (const [name, t] of full.out.params) {
    const c = cached.out.params.get(name)!;
    let d = 0;
    for (let i = 0; i < t.data.length; i++) d = Math.max(d, Math.abs(t.data[i]! - c.data[i]!));
    assert.ok(d < 1e-4, `${name} differs by ${d}`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'autopeft-siamese-'));
  try {
    const r = await runTrial({
      model: 'use-lite',
      task: 'mrpc',
      dataDir: DATA,
      peft: parsePeftConfig({ sa: 8, layers: 'all' }, 2),
      hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 32, seed: 0, threads: 1 },
      fidelity: { trainCount: 32 },
      pairHead: 'mlp',
      saveDir: dir,
    });
    assert.equal(r.pairEncoding, 'siamese', 'USE-lite encodes pairs siamese by default');
    const adapter = await loadPeftAdapter(dir);
    assert.deepEqual([adapter.head?.pairEncoding, adapter.head?.pairHead], ['siamese', 'mlp']);
    const task = await loadTask('mrpc', { dataDir: DATA });
    const ev = await evaluateAdapter({
      backbone,
      adapter,
      task: task.info,
      examples: task.validation!,
      maxLength: 32,
      threads: 1,
    });
    assert.equal(ev.main, r.metric, 'the saved adapter scores the validation split like the trained model');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
