import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../space/rng.js';
import { syntheticPeft } from '../testing/synthetic.js';
import { runLoop } from '../testing/loop.js';
import { RandomSampler } from './random.js';
import { Nsga2Sampler } from './nsga2.js';
import { BoSampler } from './bo.js';
import type { Config, FrozenTrial, Sampler } from '../types.js';
import { SearchSpaceError } from '../space/errors.js';

const problem = syntheticPeft({ numLayers: 6, hidden: 64, noise: 0.005 });
const evaluate = (c: Config, rng: Rng): number[] => [problem.observe(c, rng), problem.objectives[1]!.known!(c)];

function makeSamplers(seed: number): Sampler[] {
  const base = { space: problem.space, objectives: problem.objectives, seed };
  return [
    new RandomSampler(base),
    new Nsga2Sampler({ ...base, populationSize: 12 }),
    new BoSampler({ ...base, nInit: 10, search: { rawSamples: 48, localStarts: 2, maxSteps: 6 } }),
  ];
}

test('every sampler: valid, unique against history and pending, deterministic for a seed', async () => {
  for (const mk of [0, 1, 2]) {
    const hist = await runLoop({ sampler: makeSamplers(1)[mk]!, objectives: problem.objectives, evaluate, budget: 16, batch: 4, rng: new Rng(2) });
    const pending = [problem.space.sample(new Rng(9)), problem.space.sample(new Rng(10))];
    const a = await makeSamplers(5)[mk]!.sample({ complete: hist, pending, n: 3 });
    const b = await makeSamplers(5)[mk]!.sample({ complete: hist, pending, n: 3 });
    assert.deepEqual(a, b, `sampler ${mk} is not deterministic`);
    assert.equal(a.length, 3);
    const keys = new Set([...hist.map((t) => problem.space.key(t.config)), ...pending.map((c) => problem.space.key(c))]);
    for (const c of a) {
      assert.ok(problem.space.isValid(c));
      const k = problem.space.key(c);
      assert.ok(!keys.has(k), `sampler ${mk} repeated a config`);
      keys.add(k);
    }
  }
});

test('BO rejects objective layouts it cannot model', () => {
  assert.throws(
    () => new BoSampler({ space: problem.space, objectives: [{ name: 'a', direction: 'maximize' }, { name: 'b', direction: 'minimize' }] }),
    SearchSpaceError,
  );
  assert.throws(() => new BoSampler({ space: problem.space, objectives: problem.objectives, referencePoint: [0.5] }), /referencePoint/);
});

test('BO beats random search on the synthetic PEFT problem (same budget, fixed seeds); HVs never exceed the true front', async () => {
  const budget = 40;
  const frontHv = problem.trueFrontHypervolume();
  const hv = async (s: Sampler, seed: number): Promise<number> => {
    const trials: FrozenTrial[] = await runLoop({ sampler: s, objectives: problem.objectives, evaluate, budget, batch: 2, rng: new Rng(seed) });
    return problem.hypervolumeOf(trials.map((t) => t.config)) / frontHv;
  };
  const res: number[][] = [];
  for (const seed of [1, 2]) {
    const ss = makeSamplers(seed);
    res.push([await hv(ss[0]!, seed), await hv(ss[1]!, seed), await hv(ss[2]!, seed)]);
  }
  const mean = (j: number): number => res.reduce((a, r) => a + r[j]!, 0) / res.length;
  assert.ok(mean(2) > mean(0) + 0.05, `BO ${mean(2)} vs random ${mean(0)}`);
  for (const r of res) for (const v of r) assert.ok(v <= 1 + 1e-12);
});
