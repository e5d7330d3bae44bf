/**
 * The tiny BERT graph (forward, our autodiff, AdamW) against the PyTorch oracle fixture written by
 * scripts/oracle/bert_oracle.py: logits, loss, every gradient (embeddings included), two AdamW
 * steps, the PEFT hook points (serial adapter, prefix rows, LoRA on query/value), and a tiny RoBERTa.
 * The relative error's denominator floor applies only to the key bias (`floorFor`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../../graph/autodiff.js';
import { emitOnnx } from '../../graph/onnx/emit.js';
import type { Value } from '../../graph/ir.js';
import * as ops from '../../graph/ops/index.js';
import { createSession, tensor } from '../../runtime/session.js';
import { compileTraining } from '../../runtime/training.js';
import { floorFor, loadBertOracle, relErr } from '../../testing/oracle.js';
import type { EncoderHooks } from '../types.js';
import { buildBert } from './builder.js';

const { manifest, config, T, prefixed, feeds: batchFeeds, robertaConfig, robertaFeeds } = loadBertOracle();
const c = manifest.config;
const S = manifest.seq;
const feeds = batchFeeds();
const weights = prefixed('weight/');

function hooksFrom(hw: Map<string, { data: Float32Array; shape: number[] }>, params: Value[]): EncoderHooks {
  const P = (g: Parameters<NonNullable<EncoderHooks['prefix']>>[1], name: string) => {
    const t = hw.get(name)!;
    const v = g.param(name, t.data.slice(), t.shape);
    params.push(v);
    return v;
  };
  return {
    projection: ({ layer, graph, name, input, output }) => {
      if (name === 'key') return output;
      const a = P(graph, `peft.layer.${layer}.lora.${name}.A`);
      const b = P(graph, `peft.layer.${layer}.lora.${name}.B`);
      return ops.add(
        output,
        ops.mul(ops.matmul(ops.matmul(input, a, { transB: true }), b, { transB: true }), manifest.loraScale),
      );
    },
    prefix: (layer, graph) => ({
      key: P(graph, `peft.layer.${layer}.prefix.key`),
      value: P(graph, `peft.layer.${layer}.prefix.value`),
    }),
    ffn: ({ layer, graph, output }) => {
      const p = `peft.layer.${layer}.adapter`;
      const d = ops.relu(ops.linear(output, P(graph, `${p}.down.weight`), P(graph, `${p}.down.bias`)));
      return ops.add(output, ops.linear(d, P(graph, `${p}.up.weight`), P(graph, `${p}.up.bias`)));
    },
  };
}

async function runGrads(clsOnly: boolean, withHooks: boolean, seqLen: number | string = S) {
  const hookParams: Value[] = [];
  const hooks = withHooks ? hooksFrom(prefixed('hookweight/'), hookParams) : undefined;
  const m = buildBert({
    config,
    weights,
    seqLen,
    numLabels: c['num_labels']!,
    trainable: withHooks ? (n) => n.startsWith('classifier') : () => true,
    clsOnlyLastLayer: clsOnly,
    hiddenDropout: 0,
    attentionDropout: 0,
    hooks,
  });
  const g = m.graph;
  const labels = g.input('labels', 'int64', ['batch']);
  const loss = ops.softmaxCrossEntropy(m.logits!, labels);
  const params = [...m.params, ...hookParams];
  const grads = gradients(loss, params);
  const model = emitOnnx({
    outputs: [['logits', m.logits!], ['loss', loss], ...params.map((p, i) => [`g${i}`, grads.get(p)!] as const)],
    paramInputs: params,
  });
  const s = await createSession(model, { threads: 1 });
  const f: Record<string, ReturnType<typeof tensor>> = { ...feeds };
  for (const p of params) f[p.name] = tensor('float32', g.data.get(p) as Float32Array, p.shape as number[]);
  const out = await s.run(f);
  await s.release();
  return { out, params };
}

describe('tiny BERT vs the PyTorch oracle', () => {
  for (const clsOnly of [true, false]) {
    it(`full fine-tuning: logits, loss and every gradient (clsOnlyLastLayer=${clsOnly})`, async () => {
      const { out, params } = await runGrads(clsOnly, false);
      assert.ok(relErr(out['logits']!.data as Float32Array, T('full/logits').data) < 1e-5);
      assert.ok(Math.abs(Number(out['loss']!.data[0]) - T('full/loss').data[0]!) < 1e-6);
      assert.equal(params.length, weights.size);
      let worst = 0;
      params.forEach((p, i) => {
        const e = relErr(out[`g${i}`]!.data as Float32Array, T(`full/grad/${p.name}`).data, floorFor(p.name));
        worst = Math.max(worst, e);
        assert.ok(e < 1e-4, `${p.name}: relative error ${e}`);
      });
      console.log(`  worst gradient error (relative to each tensor's max): ${worst.toExponential(2)}`);
    });
  }

  it('symbolic sequence length (one program for any length): same logits and gradients', async () => {
    for (const hooks of [false, true]) {
      const { out, params } = await runGrads(true, hooks, 'seq');
      const pre = hooks ? 'hooks' : 'full';
      assert.ok(relErr(out['logits']!.data as Float32Array, T(`${pre}/logits`).data) < 1e-5);
      params.forEach((p, i) => {
        const e = relErr(out[`g${i}`]!.data as Float32Array, T(`${pre}/grad/${p.name}`).data, floorFor(p.name));
        assert.ok(e < 1e-4, `${pre} ${p.name}: relative error ${e}`);
      });
    }
  });

  it('PEFT hooks (serial adapter, prefix rows, LoRA q/v): logits, loss, gradients', async () => {
    const { out, params } = await runGrads(true, true);
    assert.ok(relErr(out['logits']!.data as Float32Array, T('hooks/logits').data) < 1e-5);
    assert.ok(Math.abs(Number(out['loss']!.data[0]) - T('hooks/loss').data[0]!) < 1e-6);
    params.forEach((p, i) => {
      const e = relErr(out[`g${i}`]!.data as Float32Array, T(`hooks/grad/${p.name}`).data, floorFor(p.name));
      assert.ok(e < 1e-4, `${p.name}: relative error ${e}`);
    });
  });

  it('the denominator floor is scoped: only the key bias needs it, and there it is needed', () => {
    for (const [name, t] of prefixed('full/grad/')) {
      const max = t.data.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      if (floorFor(name) > 0) assert.ok(max < 1e-6, `${name}: max |grad| ${max} is not round-off`);
      else assert.ok(max > 1e-4, `${name}: max |grad| ${max} is tiny; does it need the floor?`);
    }
  });

  it('tiny RoBERTa (positions from padding_idx + 1, one token type, dense + tanh + out_proj head): logits, loss, every gradient', async () => {
    const m = buildBert({
      config: robertaConfig,
      weights: prefixed('robertaweight/'),
      seqLen: S,
      numLabels: manifest.roberta.config['num_labels']!,
      trainable: () => true,
      hiddenDropout: 0,
      attentionDropout: 0,
    });
    assert.equal(m.tokenTypeIds, undefined);
    const labels = m.graph.input('labels', 'int64', ['batch']);
    const loss = ops.softmaxCrossEntropy(m.logits!, labels);
    const grads = gradients(loss, m.params);
    const model = emitOnnx({
      outputs: [['logits', m.logits!], ['loss', loss], ...m.params.map((p, i) => [`g${i}`, grads.get(p)!] as const)],
      paramInputs: m.params,
    });
    const s = await createSession(model, { threads: 1 });
    const f: Record<string, ReturnType<typeof tensor>> = { ...robertaFeeds() };
    for (const p of m.params) f[p.name] = tensor('float32', m.graph.data.get(p) as Float32Array, p.shape as number[]);
    const out = await s.run(f);
    await s.release();
    const le = relErr(out['logits']!.data as Float32Array, T('roberta/logits').data);
    assert.ok(le < 1e-5, `logits: relative error ${le}`);
    const lossErr = Math.abs(Number(out['loss']!.data[0]) - T('roberta/loss').data[0]!);
    assert.ok(lossErr < 1e-6, `loss: error ${lossErr}`);
    assert.equal(m.params.length, prefixed('roberta/grad/').size);
    let worst = 0;
    m.params.forEach((p, i) => {
      const e = relErr(out[`g${i}`]!.data as Float32Array, T(`roberta/grad/${p.name}`).data, floorFor(p.name));
      worst = Math.max(worst, e);
      assert.ok(e < 1e-4, `${p.name}: relative error ${e}`);
    });
    console.log(`  worst gradient error: ${worst.toExponential(2)}`);
  });

  it('two AdamW steps equal torch.optim.AdamW', async () => {
    const m = buildBert({
      config,
      weights,
      seqLen: S,
      numLabels: c['num_labels']!,
      trainable: () => true,
      hiddenDropout: 0,
      attentionDropout: 0,
    });
    const labels = m.graph.input('labels', 'int64', ['batch']);
    const prog = await compileTraining({
      loss: ops.softmaxCrossEntropy(m.logits!, labels),
      optimizer: { weightDecay: manifest.weightDecay },
      threads: 1,
    });
    for (let i = 0; i < manifest.steps; i++) await prog.step(feeds, manifest.lr);
    const got = prog.readParams();
    let loose = 0;
    let total = 0;
    for (const [name, v] of got) {
      const ref = T(`adamw/${name}`).data;
      const g0 = T(`full/grad/${name}`).data;
      for (let i = 0; i < ref.length; i++) {
        // NOTE: Adam moves each weight by about lr * g / |g|. Where |g| is within float32 round-off
        // of 0 (e.g. the key bias, whose exact gradient is 0) the sign is noise on both sides, so
        // only there the bound is the step size itself; elsewhere 1e-5 (1% of lr).
        const tiny = Math.abs(g0[i]!) < 1e-6;
        const d = Math.abs(v.data[i]! - ref[i]!);
        loose += d >= 1e-5 ? 1 : 0;
        total++;
        const tol = tiny ? 2 * manifest.lr * manifest.steps : 1e-5;
        assert.ok(d < tol, `${name}[${i}]: ${v.data[i]} vs ${ref[i]} (grad ${g0[i]})`);
      }
    }
    assert.ok(loose < total / 100, `${loose} of ${total} weights needed the loose bound`);
    await prog.release();
  });
});
