import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { loadUseLite, type UseLiteModel } from './load.js';
import { traceUseLite } from './reference.js';
import { cosine, loadPackageOracle } from './oracle.js';
import { MISSING_DATA_MESSAGE, sst2Dev } from './test-sentences.js';
import { buildUseLite, UseLiteBuildError } from './graph.js';
import { compileEval } from '../../runtime/eval.js';
import * as ops from '../../graph/ops/index.js';
import type { EncoderHooks } from '../types.js';
import { tensor, type ort } from '../../runtime/session.js';

let model: UseLiteModel;
const sentences = sst2Dev();

before(() => {
  model = loadUseLite();
});

/** Right-padded int64 feeds for token-id lists at length S (pad id 1, mask 0 there). */
function feeds(ids: readonly (readonly number[])[], S: number): Record<string, ort.Tensor> {
  const B = ids.length;
  const inputIds = new BigInt64Array(B * S).fill(1n);
  const mask = new BigInt64Array(B * S);
  ids.forEach((row, b) => {
    row.forEach((v, t) => {
      inputIds[b * S + t] = BigInt(v);
      mask[b * S + t] = 1n;
    });
  });
  return { input_ids: tensor('int64', inputIds, [B, S]), attention_mask: tensor('int64', mask, [B, S]) };
}

/** Max |got - want| over the real rows of one batch row, relative to max(1, max |want|). */
function relErr(got: Float32Array, b: number, S: number, width: number, want: Float32Array, T: number): number {
  let diff = 0;
  let scale = 1;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < width; j++) {
      const w = want[t * width + j];
      diff = Math.max(diff, Math.abs(got[(b * S + t) * width + j] - w));
      scale = Math.max(scale, Math.abs(w));
    }
  }
  return diff / scale;
}

test('oracle: 50 SST-2 dev sentences, batched with padding, match the package tfjs graph (cosine >= 0.9999)', {
  skip: sentences ? false : MISSING_DATA_MESSAGE,
}, async () => {
  const ids = sentences!.slice(0, 50).map((s) => model.tokenizer.encode(s).inputIds);
  const S = Math.max(...ids.map((r) => r.length));
  const built = buildUseLite({ model, seqLen: S });
  const ev = await compileEval(built.graph, { embedding: built.embedding!, tanh: built.tanh! }, { threads: 2 });
  const oracle = await loadPackageOracle();
  try {
    const want = await oracle.embedIds(ids);
    // Batches of 10 in file order: mixed lengths, every row padded to the longest of all 50.
    let minCos = 1;
    for (let s = 0; s < ids.length; s += 10) {
      const part = ids.slice(s, s + 10);
      assert.ok(new Set(part.map((r) => r.length)).size > 3, 'a batch mixes lengths');
      const out = await ev.run(feeds(part, S));
      const e = out.embedding.data as Float32Array;
      const z = out.tanh.data as Float32Array;
      part.forEach((_, b) => {
        const row = e.subarray(b * 512, (b + 1) * 512);
        const c = cosine(row, want[s + b]);
        minCos = Math.min(minCos, c);
        assert.ok(c >= 0.9999, `sentence ${s + b} (${part[b].length} tokens): cosine ${c}`);
        assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5, 'unit norm');
        // The exposed pre-normalisation output normalises to the embedding.
        const zr = z.subarray(b * 512, (b + 1) * 512);
        assert.ok(cosine(zr, row) > 0.999999);
      });
    }
    assert.ok(minCos >= 0.9999);
  } finally {
    oracle.dispose();
    await ev.release();
  }
});

test('per-layer hidden states at real tokens equal reference.ts (padded batch, mixed lengths)', {
  skip: sentences ? false : MISSING_DATA_MESSAGE,
}, async () => {
  const texts = [sentences![1], sentences![4], sentences![6], 'Fine.'];
  const ids = texts.map((s) => model.tokenizer.encode(s).inputIds);
  const S = Math.max(...ids.map((r) => r.length)) + 3;
  const built = buildUseLite({ model, seqLen: S });
  const outs = {
    x0: built.layerInputs[0]!,
    a0: built.attnOutputs[0]!,
    o0: built.layerOutputs[0]!,
    a1: built.attnOutputs[1]!,
    o1: built.layerOutputs[1]!,
    pooled: built.pooled!,
    tanh: built.tanh!,
    embedding: built.embedding!,
  };
  const ev = await compileEval(built.graph, outs, { threads: 2 });
  try {
    const out = await ev.run(feeds(ids, S));
    const get = (k: keyof typeof outs) => out[k].data as Float32Array;
    ids.forEach((row, b) => {
      const tr = traceUseLite(model, row);
      const T = row.length;
      const checks: [string, number][] = [
        ['embedded', relErr(get('x0'), b, S, 256, tr.embedded, T)],
        ['layer 0 attention', relErr(get('a0'), b, S, 512, tr.layers[0].attnOutput, T)],
        ['layer 0 output', relErr(get('o0'), b, S, 512, tr.layers[0].output, T)],
        ['layer 1 attention', relErr(get('a1'), b, S, 512, tr.layers[1].attnOutput, T)],
        ['layer 1 output', relErr(get('o1'), b, S, 512, tr.layers[1].output, T)],
        ['pooled', relErr(get('pooled'), b, 1, 512, tr.pooled, 1)],
        ['tanh', relErr(get('tanh'), b, 1, 512, tr.tanh, 1)],
      ];
      for (const [what, err] of checks) assert.ok(err < 2e-5, `text ${b} (${T} tokens) ${what}: relative error ${err}`);
      assert.ok(cosine(get('embedding').subarray(b * 512, (b + 1) * 512), tr.embedding) >= 0.99999);
    });
  } finally {
    await ev.release();
  }
});

test('frozen prefix: layers [0, k) then [k, L) from hidden_in equal the full graph', async () => {
  const texts = ['a gripping, funny film', 'dull', 'it is not a bad movie at all , really'];
  const ids = texts.map((s) => model.tokenizer.encode(s).inputIds);
  const S = Math.max(...ids.map((r) => r.length)) + 2;
  const full = buildUseLite({ model, seqLen: S });
  const evFull = await compileEval(full.graph, { embedding: full.embedding! }, { threads: 2 });
  const f = feeds(ids, S);
  const want = (await evFull.run(f)).embedding.data as Float32Array;
  await evFull.release();
  for (const k of [1, 2]) {
    const lower = buildUseLite({ model, seqLen: S, toLayer: k });
    assert.equal(lower.hidden.shape[2], 512);
    const upper = buildUseLite({ model, seqLen: S, fromLayer: k });
    assert.equal(upper.hiddenIn!.name, 'hidden_in');
    const [evLow, evUp] = await Promise.all([
      compileEval(lower.graph, { hidden: lower.hidden }, { threads: 2 }),
      compileEval(upper.graph, { embedding: upper.embedding! }, { threads: 2 }),
    ]);
    const h = (await evLow.run(f)).hidden;
    const got = (await evUp.run({ hidden_in: h, attention_mask: f.attention_mask })).embedding.data as Float32Array;
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(got[i] - want[i]) < 1e-6, `k=${k} element ${i}: ${got[i]} vs ${want[i]}`);
    await Promise.all([evLow.release(), evUp.release()]);
  }
});

test('an empty text pools to zero without NaN; bad options are one-line errors', async () => {
  const built = buildUseLite({ model, seqLen: 4 });
  const ev = await compileEval(built.graph, { embedding: built.embedding!, pooled: built.pooled! }, { threads: 1 });
  const out = await ev.run(feeds([[], [100, 200]], 4));
  const pooled = out.pooled.data as Float32Array;
  for (let j = 0; j < 512; j++) assert.equal(pooled[j], 0);
  assert.ok((out.embedding.data as Float32Array).every(Number.isFinite));
  await ev.release();
  assert.throws(
    () => buildUseLite({ model, seqLen: 129 }),
    (e: unknown) => e instanceof UseLiteBuildError && /seqLen 129 .*--max-length/.test(e.message),
  );
  assert.throws(() => buildUseLite({ model, seqLen: 8, fromLayer: 3 }), UseLiteBuildError);
  assert.throws(() => buildUseLite({ model, seqLen: 8, toLayer: 1, head: { numLabels: 2 } }), UseLiteBuildError);
});

test('layer-0 hooks: padded contexts at 512 give what native 256-wide hooks give on the live block', async () => {
  const texts = ['a gripping , funny film', 'dull'];
  const ids = texts.map((s) => model.tokenizer.encode(s).inputIds);
  const S = 8;
  const rng = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => 0.05 * Math.sin(seed + i * 0.7));
  const M = rng(512 * 512, 1); // [in, out], the padded hook's map
  const Pk = rng(3 * 512, 2);
  const Pv = rng(3 * 512, 3);
  const top = (a: Float32Array, rows: number, cols: number, w: number) =>
    Float32Array.from({ length: rows * w }, (_, i) => a[Math.floor(i / w) * cols + (i % w)]);
  const seen: string[] = [];
  const hooksFor = (mode: 'padded' | 'native'): EncoderHooks => ({
    projection: (c) => {
      seen.push(`${mode} ${c.layer} ${c.name} ${c.input.shape[2]}x${c.output.shape[2]}`);
      if (c.name === 'key') return c.output;
      const w = c.input.shape[2] as number;
      const m =
        w === 512
          ? c.graph.constant(M, [512, 512])
          : c.graph.constant(top(M, 512, 512, 256).subarray(0, 256 * 256), [256, 256]);
      return ops.add(c.output, ops.matmul(c.input, m));
    },
    prefix: (layer, g) => {
      const w = mode === 'native' && layer === 0 ? 256 : 512;
      return {
        key: g.constant(w === 512 ? Pk : top(Pk, 3, 512, 256), [3, w]),
        value: g.constant(w === 512 ? Pv : top(Pv, 3, 512, 256), [3, w]),
      };
    },
    ffn: (c) => {
      seen.push(`${mode} ffn ${c.layer} ${c.input.shape[2]}x${c.output.shape[2]}`);
      return c.output;
    },
  });
  const run = async (mode: 'padded' | 'native') => {
    const b = buildUseLite({ model, seqLen: S, hooks: hooksFor(mode), attentionHookWidth: mode });
    const ev = await compileEval(b.graph, { e: b.embedding! }, { threads: 2 });
    const out = (await ev.run(feeds(ids, S))).e.data as Float32Array;
    await ev.release();
    return out;
  };
  const padded = await run('padded');
  const native = await run('native');
  const plain = buildUseLite({ model, seqLen: S });
  const ev = await compileEval(plain.graph, { e: plain.embedding! }, { threads: 2 });
  const frozen = (await ev.run(feeds(ids, S))).e.data as Float32Array;
  await ev.release();
  for (let i = 0; i < padded.length; i++)
    assert.ok(Math.abs(padded[i] - native[i]) < 1e-6, `element ${i}: ${padded[i]} vs ${native[i]}`);
  assert.ok(
    padded.some((v, i) => Math.abs(v - frozen[i]) > 1e-3),
    'the hooks changed the embedding',
  );
  assert.ok(
    seen.includes('padded 0 query 512x512') &&
      seen.includes('native 0 query 256x256') &&
      seen.includes('padded 1 value 512x512'),
  );
  assert.ok(seen.includes('padded ffn 0 512x512') && seen.includes('native ffn 1 512x512'));
  const bad: EncoderHooks = {
    prefix: (_l, g) => ({
      key: g.constant(new Float32Array(6), [2, 3]),
      value: g.constant(new Float32Array(6), [2, 3]),
    }),
  };
  assert.throws(
    () => buildUseLite({ model, seqLen: S, hooks: bad }),
    (e: unknown) => e instanceof UseLiteBuildError && /prefix key of layer 0 is \[2,3\]/.test(e.message),
  );
});
