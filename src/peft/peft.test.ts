/** Table-driven behaviour of every PEFT method on a tiny random BERT. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { softmaxCrossEntropy } from '../graph/ops/index.js';
import { compileTraining } from '../runtime/training.js';
import { isHeadWeight } from './create.js';
import { BATCH, buildTiny, CASES, caseConfig, evalLogits, LABELS, maxAbsDiff, tinyFeeds, tinyLabels, tinyWeights } from './testing.js';

describe('PEFT modules on a tiny BERT', () => {
  let frozen: Float32Array;
  before(async () => {
    frozen = await evalLogits(buildTiny(caseConfig({ layers: [false, false] })));
  });

  it('the frozen reference logits are finite and input-dependent', () => {
    assert.equal(frozen.length, BATCH * LABELS);
    assert.ok(frozen.every(Number.isFinite));
    assert.ok(maxAbsDiff(frozen.subarray(0, LABELS), frozen.subarray(LABELS, 2 * LABELS)) > 1e-3, 'examples give different logits');
  });

  for (const raw of [{ sa: 0, pa: 0, pt: 0, lora: 0 }, { sa: 8, pt: 4, lora: 2, layers: [false, false] }]) {
    it(`no-op configuration ${JSON.stringify(raw)} reproduces the frozen logits exactly and adds no params`, async () => {
      const b = buildTiny(caseConfig(raw));
      assert.equal(b.peft.params.length, 0);
      assert.deepEqual(b.peft.hooks, {});
      assert.deepEqual(await evalLogits(b), frozen);
    });
  }

  for (const c of CASES) {
    describe(c.name, () => {
      it('outputs are finite; params only in active layers, named peft.*', async () => {
        const cfg = caseConfig(c.raw);
        const b = buildTiny(cfg, { seed: 1 });
        const logits = await evalLogits(b);
        assert.ok(logits.every(Number.isFinite));
        assert.ok(b.peft.params.length > 0);
        assert.deepEqual([...b.peft.params.map((p) => p.name)].sort(), [...b.peft.names].sort());
        for (const p of b.peft.params) {
          assert.equal(p.kind, 'param');
          assert.match(p.name, /^peft\./);
          const layer = /^peft\.layer\.(\d+)\./.exec(p.name);
          if (layer) assert.equal(cfg.layers[Number(layer[1])], true, `${p.name} sits in an inactive layer`);
        }
        // Trainable = PEFT + head, structurally.
        for (const p of b.m.graph.params) assert.ok(p.name.startsWith('peft.') || isHeadWeight(p.name), `${p.name} is trainable`);
      });

      it(c.noopAtInit ? 'no-op at init: reproduces the frozen logits' : 'NOT a no-op at init (attended prefix rows change the logits)', async () => {
        const logits = await evalLogits(buildTiny(caseConfig(c.raw), { seed: 1 }));
        const d = maxAbsDiff(logits, frozen);
        if (c.noopAtInit) assert.equal(d, 0, `max |diff| ${d}`);
        else assert.ok(d > 1e-4, `prefix rows should change the logits, max |diff| ${d}`);
      });

      it(`with the head frozen, the PEFT params alone fit a fixed batch (loss x${c.fit ?? 0.5} in 40 steps)`, async () => {
        const b = buildTiny(caseConfig(c.raw), { seed: 1, frozenHead: true });
        const labels = b.m.graph.input('labels', 'int64', ['batch']);
        const prog = await compileTraining({ loss: softmaxCrossEntropy(b.logits, labels), threads: 1 });
        assert.deepEqual(prog.store.params.map((p) => p.name).sort(), [...b.peft.names].sort());
        const feeds = { ...tinyFeeds(), labels: tinyLabels() };
        const losses: number[] = [];
        for (let i = 0; i < 40; i++) losses.push((await prog.step(feeds, 5e-2)).loss);
        await prog.release();
        assert.ok(losses.every(Number.isFinite));
        assert.ok(losses.at(-1)! < (c.fit ?? 0.5) * losses[0]!, `loss ${losses[0]} -> ${losses.at(-1)}`);
      });

      it('after training steps only PEFT params and the head change; frozen weights stay bit-identical', async () => {
        const backbone = tinyWeights();
        const before = new Map([...backbone].map(([k, v]) => [k, v.data.slice()]));
        const b = buildTiny(caseConfig(c.raw), { seed: 1, backbone });
        const g = b.m.graph;
        const labels = g.input('labels', 'int64', ['batch']);
        const prog = await compileTraining({ loss: softmaxCrossEntropy(b.logits, labels), threads: 1 });
        const p0 = prog.readParams();
        const feeds = { ...tinyFeeds(), labels: tinyLabels() };
        const l1 = (await prog.step(feeds, 1e-2)).loss;
        const p1 = prog.readParams();
        await prog.step(feeds, 1e-2);
        const p2 = prog.readParams();
        await prog.release();
        assert.ok(Number.isFinite(l1));
        // Trained set = PEFT names + head weights, nothing else.
        const headNames = [...backbone.keys()].filter(isHeadWeight);
        assert.deepEqual([...p0.keys()].sort(), [...b.peft.names, ...headNames].sort());
        const changed = (a: Map<string, { data: ArrayLike<number> }>, z: Map<string, { data: ArrayLike<number> }>, n: string) => maxAbsDiff(a.get(n)!.data, z.get(n)!.data) > 0;
        for (const n of headNames) assert.ok(changed(p0, p1, n), `head ${n} did not change`);
        // Zero-init up/B: their partners get an exactly-zero gradient at step 1 (AdamW moves nothing),
        // then move at step 2 once up/B != 0. Every PEFT tensor has moved after two steps.
        for (const n of b.peft.names) assert.ok(changed(p0, p2, n), `${n} did not change in two steps`);
        for (const n of b.peft.names.filter((n) => /\.(up\.weight|up\.bias|B)$/.test(n))) assert.ok(changed(p0, p1, n), `${n} did not change at step 1`);
        // Frozen backbone weights: constants in the graph, bit-identical to the checkpoint.
        let frozenCount = 0;
        for (const v of g.constants) {
          const orig = before.get(v.name);
          if (!orig) continue;
          frozenCount++;
          assert.deepEqual(g.data.get(v), orig, `${v.name} changed`);
        }
        assert.equal(frozenCount, backbone.size - headNames.length);
      });
    });
  }
});
