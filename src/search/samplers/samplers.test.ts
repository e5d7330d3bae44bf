import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/random.js';
import { syntheticPeft } from '../testing/synthetic.js';
import { runLoop } from '../testing/loop.js';
import { RandomSampler } from './random.js';
import { Nsga2Sampler } from './nsga2.js';
import { BoSampler, binomialNoise } from './bo.js';
import { GridSampler } from './grid.js';
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
    const hist = await runLoop({
      sampler: makeSamplers(1)[mk]!,
      objectives: problem.objectives,
      evaluate,
      budget: 16,
      batch: 4,
      rng: new Rng(2),
    });
    const pending = [problem.space.sample(new Rng(9)), problem.space.sample(new Rng(10))];
    const a = await makeSamplers(5)[mk]!.sample({ complete: hist, pending, n: 3 });
    const b = await makeSamplers(5)[mk]!.sample({ complete: hist, pending, n: 3 });
    assert.deepEqual(a, b, `sampler ${mk} is not deterministic`);
    assert.equal(a.length, 3);
    const keys = new Set([
      ...hist.map((t) => problem.space.key(t.config)),
      ...pending.map((c) => problem.space.key(c)),
    ]);
    for (const c of a) {
      assert.ok(problem.space.isValid(c));
      const k = problem.space.key(c);
      assert.ok(!keys.has(k), `sampler ${mk} repeated a config`);
      keys.add(k);
    }
  }
});

test('every sampler: configurations of pruned trials are not proposed again', async () => {
  const hist = await runLoop({
    sampler: makeSamplers(1)[0]!,
    objectives: problem.objectives,
    evaluate,
    budget: 16,
    batch: 4,
    rng: new Rng(3),
  });
  const gridSpace = syntheticPeft({ numLayers: 2, hidden: 16, noise: 0 }).space;
  const grid = new GridSampler({ space: gridSpace, seed: 1 });
  for (const [name, make] of [
    ...makeSamplers(7).map((s, i) => [s.name, () => makeSamplers(7)[i]!] as const),
    ['grid', () => grid] as const,
  ]) {
    const complete = name === 'grid' ? [] : hist;
    // What the sampler proposes first, then the same call once those configs were pruned.
    const first = await make().sample({ complete, pending: [], n: 3 });
    const pruned: FrozenTrial[] = first.map((config, i) => ({
      number: 100 + i,
      state: 'PRUNED',
      config,
      userAttrs: {},
      createdAt: 100 + i,
      intermediateValues: [{ step: 1, value: 0.5 }],
    }));
    const again = await make().sample({ complete, pending: [], pruned, n: 3 });
    const space = name === 'grid' ? gridSpace : problem.space;
    const prunedKeys = new Set(first.map((c) => space.key(c)));
    assert.equal(again.length, 3);
    for (const c of again) assert.ok(!prunedKeys.has(space.key(c)), `${name} proposed a pruned configuration again`);
  }
});

test('BO rejects objective layouts it cannot model', () => {
  assert.throws(
    () =>
      new BoSampler({
        space: problem.space,
        objectives: [
          { name: 'a', direction: 'maximize' },
          { name: 'b', direction: 'minimize' },
        ],
      }),
    SearchSpaceError,
  );
  assert.throws(
    () => new BoSampler({ space: problem.space, objectives: problem.objectives, referencePoint: [0.5] }),
    /referencePoint/,
  );
});

test('BO beats random search on the synthetic PEFT problem (same budget, fixed seeds); HVs never exceed the true front', async () => {
  const budget = 40;
  const frontHv = problem.trueFrontHypervolume();
  const hv = async (s: Sampler, seed: number): Promise<number> => {
    const trials: FrozenTrial[] = await runLoop({
      sampler: s,
      objectives: problem.objectives,
      evaluate,
      budget,
      batch: 2,
      rng: new Rng(seed),
    });
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

test('BO on a generic mixed space with a single objective (EHVI reduces to EI) finds a better optimum than random', async () => {
  const { SearchSpace } = await import('../space/space.js');
  const space = new SearchSpace([
    { kind: 'float', name: 'x', low: 0, high: 1 },
    { kind: 'categorical', name: 'act', choices: ['relu', 'gelu', 'tanh'] },
    { kind: 'int', name: 'k', low: 1, high: 9 },
  ]);
  // optimum 1.0 at x = 0.7, act = gelu, k = 6
  const f = (c: Config): number =>
    1 - ((c.x as number) - 0.7) ** 2 - 0.02 * ((c.k as number) - 6) ** 2 - (c.act === 'gelu' ? 0 : 0.3);
  const objectives = [{ name: 'score', direction: 'maximize' as const }];
  const best = async (s: Sampler): Promise<number> => {
    const t = await runLoop({ sampler: s, objectives, evaluate: (c) => [f(c)], budget: 24, rng: new Rng(1) });
    return Math.max(...t.map((x) => f(x.config)));
  };
  const bo = await best(
    new BoSampler({ space, objectives, seed: 3, nInit: 8, search: { rawSamples: 48, localStarts: 2, maxSteps: 8 } }),
  );
  const rnd = await best(new RandomSampler({ space, seed: 3 }));
  assert.ok(bo > rnd, `BO best ${bo} vs random best ${rnd}`);
});

test('createSampler builds each sampler by name and rejects unknown names', async () => {
  const { createSampler } = await import('./factory.js');
  const opts = { space: problem.space, objectives: problem.objectives, seed: 1 };
  assert.equal(createSampler('random', opts).name, 'random');
  assert.equal(createSampler('nsga2', opts).name, 'nsga2');
  assert.equal(createSampler('bo', opts).name, 'bo');
  assert.throws(() => createSampler('tpe', opts), /sampler "tpe" is unknown/);
});

test('BO survives degenerate histories: constant metric, repeated configs, a given reference point, q = 4 with pending', async () => {
  const rng = new Rng(17);
  const cfgs = Array.from({ length: 12 }, () => problem.space.sample(rng));
  const hist: FrozenTrial[] = [...cfgs, cfgs[0]!, cfgs[1]!].map((config, i) => ({
    number: i,
    state: 'COMPLETE',
    config,
    values: [0.7, 0],
    userAttrs: {},
    createdAt: i,
  }));
  const bo = new BoSampler({
    space: problem.space,
    objectives: problem.objectives,
    seed: 1,
    nInit: 5,
    referencePoint: [0.5, 1],
    search: { rawSamples: 32, localStarts: 1, maxSteps: 4 },
  });
  const pending = [problem.space.sample(rng)];
  const out = await bo.sample({ complete: hist, pending, n: 4 });
  assert.equal(out.length, 4);
  const keys = new Set([...hist.map((t) => problem.space.key(t.config)), problem.space.key(pending[0]!)]);
  for (const c of out) {
    assert.ok(problem.space.isValid(c));
    assert.ok(!keys.has(problem.space.key(c)));
    keys.add(problem.space.key(c));
  }
  assert.equal(bo.last.values.length, 4);
  for (const v of bo.last.values) assert.ok(Number.isFinite(v) && v >= 0);
});

test('BO: hyperparameters fitted on a subset beyond maxFitPoints; a foreign config is a typed error', async () => {
  const rng = new Rng(23);
  const hist: FrozenTrial[] = Array.from({ length: 30 }, (_, i) => {
    const config = problem.space.sample(rng);
    return {
      number: i,
      state: 'COMPLETE',
      config,
      values: [problem.observe(config, rng), 0],
      userAttrs: {},
      createdAt: i,
    };
  });
  const bo = new BoSampler({
    space: problem.space,
    objectives: problem.objectives,
    seed: 2,
    nInit: 5,
    fit: { maxFitPoints: 12 },
    search: { rawSamples: 16, localStarts: 1, maxSteps: 2 },
  });
  const [c] = await bo.sample({ complete: hist, pending: [], n: 1 });
  assert.ok(problem.space.isValid(c!));
  assert.equal(bo.last.gp!.n, 30); // conditions on every trial
  const foreign = { ...hist[3]!, config: { ...hist[3]!.config, layer_9: true } as Config };
  delete (foreign.config as Record<string, unknown>).layer_0;
  await assert.rejects(
    async () => bo.sample({ complete: [...hist, foreign], pending: [], n: 1 }),
    /trial 3: field "layer_0" is missing/,
  );
});

test('NSGA-II survival: whole better fronts first, the cut front by crowding distance (brute-force check)', async () => {
  const { nsga2Survivors } = await import('./nsga2.js');
  const { dominates } = await import('../pareto/pareto.js');
  const rng = new Rng(31);
  for (let t = 0; t < 20; t++) {
    const Y = Array.from({ length: 30 }, () => [rng.int(8), rng.int(8)]);
    const size = 5 + rng.int(20);
    const surv = nsga2Survivors(Y, size);
    assert.equal(surv.length, size);
    // brute-force ranks by peeling
    const rank = new Array<number>(Y.length).fill(-1);
    let left = Y.map((_, i) => i);
    for (let r = 0; left.length > 0; r++) {
      const cur = left.filter((i) => !left.some((j) => dominates(Y[j]!, Y[i]!)));
      for (const i of cur) rank[i] = r;
      left = left.filter((i) => rank[i] === -1);
    }
    const chosen = new Set(surv.map((s) => s.index));
    const worstChosen = Math.max(...surv.map((s) => rank[s.index]!));
    for (const s of surv) assert.equal(s.rank, rank[s.index]);
    for (let i = 0; i < Y.length; i++) {
      if (chosen.has(i)) continue;
      assert.ok(rank[i]! >= worstChosen, 'a better-ranked point was dropped');
      if (rank[i] === worstChosen) {
        // every chosen member of the cut front is at least as crowded-apart as any dropped one
        const { crowdingDistance } = await import('../pareto/pareto.js');
        const front = Y.map((_, j) => j).filter((j) => rank[j] === worstChosen);
        const cd = crowdingDistance(Y, front);
        const cdOf = (j: number): number => cd[front.indexOf(j)]!;
        for (const s of surv) if (rank[s.index] === worstChosen) assert.ok(cdOf(s.index) >= cdOf(i));
      }
    }
  }
});

test("BO with acquisition 'ehvi' (Kriging believer for pending) also beats random", async () => {
  const budget = 40;
  const frontHv = problem.trueFrontHypervolume();
  const run = async (s: Sampler): Promise<number> => {
    const t = await runLoop({
      sampler: s,
      objectives: problem.objectives,
      evaluate,
      budget,
      batch: 2,
      rng: new Rng(1),
    });
    return problem.hypervolumeOf(t.map((x) => x.config)) / frontHv;
  };
  const base = { space: problem.space, objectives: problem.objectives, seed: 1 };
  const bo = await run(
    new BoSampler({ ...base, nInit: 10, acquisition: 'ehvi', search: { rawSamples: 48, localStarts: 2, maxSteps: 6 } }),
  );
  const rnd = await run(new RandomSampler(base));
  assert.ok(bo > rnd + 0.05, `BO(ehvi) ${bo} vs random ${rnd}`);
});

test('BO with a minimised modelled objective (error = 1 - metric) also beats random', async () => {
  const objectives = [{ name: 'error', direction: 'minimize' as const }, problem.objectives[1]!];
  const frontHv = problem.trueFrontHypervolume();
  const run = async (s: Sampler): Promise<number> => {
    const t = await runLoop({
      sampler: s,
      objectives,
      evaluate: (c, r) => [1 - problem.observe(c, r), 0],
      budget: 40,
      batch: 2,
      rng: new Rng(3),
    });
    return problem.hypervolumeOf(t.map((x) => x.config)) / frontHv;
  };
  const bo = await run(
    new BoSampler({
      space: problem.space,
      objectives,
      seed: 4,
      nInit: 10,
      search: { rawSamples: 48, localStarts: 2, maxSteps: 6 },
    }),
  );
  const rnd = await run(new RandomSampler({ space: problem.space, seed: 4 }));
  assert.ok(bo > rnd + 0.05, `BO ${bo} vs random ${rnd}`);
});

test('BO exportState/importState: a restarted sampler proposes what the uninterrupted one does', async () => {
  const rng = new Rng(41);
  const hist: FrozenTrial[] = [];
  const add = (config: Config): void => {
    hist.push({
      number: hist.length,
      state: 'COMPLETE',
      config,
      values: [problem.observe(config, rng), 0],
      userAttrs: {},
      createdAt: hist.length,
    });
  };
  for (let i = 0; i < 12; i++) add(problem.space.sample(rng));
  const opts = {
    space: problem.space,
    objectives: problem.objectives,
    seed: 8,
    nInit: 10,
    search: { rawSamples: 24, localStarts: 1, maxSteps: 3 },
  };
  const a = new BoSampler(opts);
  for (let r = 0; r < 2; r++) for (const c of await a.sample({ complete: hist, pending: [], n: 1 })) add(c);
  const saved = JSON.parse(JSON.stringify(a.exportState()));
  const b = new BoSampler(opts);
  b.importState(saved);
  const fresh = new BoSampler(opts);
  const [ca] = await a.sample({ complete: hist, pending: [], n: 1 });
  const [cb] = await b.sample({ complete: hist, pending: [], n: 1 });
  assert.deepEqual(cb, ca);
  assert.deepEqual(a.exportState(), b.exportState());
  await fresh.sample({ complete: hist, pending: [], n: 1 }); // runs (cold), may differ
  assert.throws(() => b.importState({ theta: [NaN], lastColdN: 1 }), SearchSpaceError);
});

test('BO binomial noise: p(1 - p)/n per trial in the copula scale; proposals differ from the learned-noise model', async () => {
  const t = (number: number, n?: number): FrozenTrial => ({
    number,
    state: 'COMPLETE',
    config: {},
    userAttrs: n === undefined ? {} : { validationExamples: n },
    createdAt: 0,
  });
  // y with std 0.1 and z with std 0.2: slope 2, so variances are 4 p(1 - p)/n.
  const v = binomialNoise([t(0, 100), t(1)], [0.7, 0.9], [-0.2, 0.2], 400);
  assert.ok(Math.abs(v[0]! - (4 * 0.7 * 0.3) / 100) < 1e-12);
  assert.ok(Math.abs(v[1]! - (4 * 0.9 * 0.1) / 400) < 1e-12);
  assert.throws(() => binomialNoise([t(0)], [0.7], [0], undefined), /validationExamples/);
  const hist = (
    await runLoop({
      sampler: new RandomSampler({ space: problem.space, seed: 1 }),
      objectives: problem.objectives,
      evaluate,
      budget: 16,
      batch: 4,
      rng: new Rng(2),
    })
  ).map((h) => ({ ...h, userAttrs: { ...h.userAttrs, validationExamples: 50 } }));
  const mk = (noise: 'learned' | 'binomial') =>
    new BoSampler({
      space: problem.space,
      objectives: problem.objectives,
      seed: 4,
      nInit: 8,
      noise,
      search: { rawSamples: 48, localStarts: 2, maxSteps: 6 },
    });
  const bin = mk('binomial');
  const a = await bin.sample({ complete: hist, pending: [], n: 2 });
  assert.equal(a.length, 2);
  assert.ok(a.every((c) => problem.space.isValid(c)));
  assert.ok(bin.last.gp?.fixedNoise, 'the GP was fitted with the known noise');
  assert.equal(hist.length, bin.last.gp!.fixedNoise!.length);
  const plain = mk('learned');
  await plain.sample({ complete: hist, pending: [], n: 2 });
  assert.equal(plain.last.gp?.fixedNoise, undefined);
});
