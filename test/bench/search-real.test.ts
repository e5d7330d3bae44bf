// The recorded-trials harness (bench/real) on a small synthetic table whose answers are known.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoSampler } from '../../src/search/samplers/bo.js';
import { RandomSampler } from '../../src/search/samplers/random.js';
import {
  bestHv,
  evalsToReach,
  fidelitySpearman,
  hvAt,
  initialDesign,
  runStrategy,
  spaceVsSingleMethod,
  spearman,
  tableSpace,
  truthNoise,
  winRate,
} from '../../bench/real/simulate.js';
import { curvesSvg, fidelitySvg, tableSvg } from '../../bench/real/plots.js';
import { buildTable, configKey, parseRows, type TableRow } from '../../bench/real/table.js';

const SIZES = [0, 1, 4, 16];

/** Every valid config of a 2-layer space; truth rises with size and layers, noise shrinks with fidelity. */
function syntheticRows(seeds: number): TableRow[] {
  const rows: TableRow[] = [];
  let noise = 12345;
  const rnd = (): number => {
    noise = (Math.imul(noise, 1103515245) + 12345) >>> 0;
    return noise / 2 ** 32 - 0.5;
  };
  for (const mask of [
    [true, false],
    [false, true],
    [true, true],
  ])
    for (const sa of SIZES)
      for (const pa of SIZES)
        for (const pt of SIZES) {
          if (sa + pa + pt === 0) continue;
          const on = mask.filter((b) => b).length;
          const paramPct = on * (0.02 * sa + 0.02 * pa + 0.01 * pt);
          const truth = 0.7 + 0.1 * (1 - Math.exp(-(sa + 2 * pa + pt) / 8)) * (mask[1] ? 1 : 0.6);
          for (let seed = 0; seed < seeds; seed++)
            rows.push({
              key: configKey(mask, sa, pa, pt),
              layers: mask,
              sa,
              pa,
              pt,
              seed,
              paramPct,
              valN: 1000,
              devN: 872,
              curve: [
                { examples: 100, val: truth - 0.05 + 0.04 * rnd(), sec: 1 },
                { examples: 400, val: truth + 0.01 * rnd(), sec: 4 },
              ],
              dev: truth + 0.002 * rnd(),
              sec: 5,
            });
        }
  return rows;
}

test('table: parse, group by config, common fidelities, truth = mean dev over seeds', () => {
  const rows = syntheticRows(2);
  const t = buildTable(parseRows(rows.map((r) => JSON.stringify(r)).join('\n'), 'synthetic'));
  assert.equal(t.configs.length, 3 * 63);
  assert.deepEqual(t.fidelities, [100, 400]);
  assert.deepEqual(t.sizes, SIZES);
  const c = t.configs[0]!;
  assert.ok(Math.abs(c.truth - (c.rows[0]!.dev + c.rows[1]!.dev) / 2) < 1e-12);
  assert.throws(() => parseRows('{"key": 1}', 'bad.jsonl'), /bad.jsonl:1/);
  // Configurations with fewer seeds than asked for are left out.
  assert.throws(() => buildTable(syntheticRows(1), 2), /no configuration/);
});

test('space = the table; random search over every config reaches the best front (normalised HV 1)', async () => {
  const t = buildTable(syntheticRows(2));
  const space = tableSpace(t);
  assert.ok(bestHv(t) > 0);
  const all = await runStrategy(
    t,
    { name: 'random', make: ({ space: s, seed }) => new RandomSampler({ space: s, seed }) },
    3,
    { budget: t.configs.length, nInit: 10, batch: 7 },
  );
  assert.equal(new Set(all.keys).size, t.configs.length);
  assert.ok(Math.abs(hvAt(all, t.configs.length) - 1) < 1e-12);
  // Monotone, and compute adds up.
  for (let i = 1; i < all.hv.length; i++) assert.ok(all.hv[i]! >= all.hv[i - 1]!);
  assert.equal(all.examples.at(-1), 400 * t.configs.length);
  assert.equal(initialDesign(t, space, 3, 10).length, 10);
});

test('paired design: strategies share the initial configurations and observations of a seed', async () => {
  const t = buildTable(syntheticRows(2));
  const opts = { budget: 30, nInit: 10, batch: 4 };
  const a = await runStrategy(
    t,
    { name: 'random', make: ({ space, seed }) => new RandomSampler({ space, seed }) },
    5,
    opts,
  );
  const b = await runStrategy(
    t,
    { name: 'bo', make: ({ space, objectives, seed }) => new BoSampler({ space, objectives, seed, nInit: 0 }) },
    5,
    opts,
  );
  assert.deepEqual(a.keys.slice(0, 10), b.keys.slice(0, 10));
  assert.deepEqual(a.hv.slice(0, 10), b.hv.slice(0, 10));
  assert.equal(winRate([a], [a], 20), 0.5);
  assert.ok(evalsToReach([a], hvAt(a, 30))! <= 30);
});

test('fidelity Spearman and the single-method share behave as defined', () => {
  const t = buildTable(syntheticRows(3));
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  const fs = fidelitySpearman(t);
  // The synthetic high fidelity is less noisy, so it ranks better.
  assert.ok(fs['400']!.single > fs['100']!.single);
  const sm = spaceVsSingleMethod(t);
  assert.equal(sm.singleMethodConfigs, 9);
  assert.ok(sm.singleMethod > 0 && sm.singleMethod <= 1);
});

test('MO-ASHA strategy: trials pruned at the lower fidelity cost its examples; samplers see only finished ones', async () => {
  const t = buildTable(syntheticRows(2));
  const opts = { budget: 60, nInit: 10, batch: 4 };
  const random = await runStrategy(
    t,
    { name: 'random', make: ({ space, seed }) => new RandomSampler({ space, seed }) },
    2,
    opts,
  );
  let sawPruned = false;
  const asha = await runStrategy(
    t,
    {
      name: 'asha-random',
      asha: { eta: 2 },
      make: ({ space, seed }) => {
        const r = new RandomSampler({ space, seed });
        return {
          name: 'random',
          sample: (a) => {
            // What the sampler is shown: finished trials at the top fidelity only.
            assert.ok(a.complete.every((x) => x.state === 'COMPLETE' && x.values?.length === 2));
            return r.sample(a);
          },
        };
      },
    },
    2,
    opts,
  );
  assert.equal(asha.hv.length, 60);
  // Each trial costs 100 (pruned at the first rung) or 400 (finished) examples.
  const costs = asha.examples.map((e, i) => e - (i > 0 ? asha.examples[i - 1]! : 0));
  assert.ok(costs.every((c) => c === 100 || c === 400));
  sawPruned = costs.includes(100);
  assert.ok(sawPruned, 'some trials were pruned');
  assert.ok(asha.examples.at(-1)! < random.examples.at(-1)!);
  // Same initial configurations as random's (the pruned ones among them leave the front).
  assert.deepEqual(asha.keys.slice(0, 10), random.keys.slice(0, 10));
  for (let i = 1; i < asha.hv.length; i++) assert.ok(asha.hv[i]! >= asha.hv[i - 1]!);
});

test('bo-binomial strategy: the noise-aware BO runs on the table (validation sizes from the rows)', async () => {
  const t = buildTable(syntheticRows(2));
  const r = await runStrategy(
    t,
    {
      name: 'bo-binomial',
      make: ({ space, objectives, seed }) => new BoSampler({ space, objectives, seed, nInit: 0, noise: 'binomial' }),
    },
    1,
    { budget: 20, nInit: 10, batch: 5 },
  );
  assert.equal(r.hv.length, 20);
  assert.ok(r.hv.at(-1)! > 0);
});

test("truth noise: seeds' dev scores against each other; the plots draw every strategy and configuration", async () => {
  const t = buildTable(syntheticRows(2));
  const tn = truthNoise(t);
  // The synthetic dev noise (0.002) is far below the truth's spread across configs, so the seeds agree.
  assert.ok(tn.seedVsSeed > 0.9, `seed vs seed ${tn.seedVsSeed}`);
  assert.ok(tn.truthSd > 10 * tn.meanSeedGap);
  const runs = new Map([
    [
      'random',
      [
        await runStrategy(t, { name: 'random', make: ({ space, seed }) => new RandomSampler({ space, seed }) }, 0, {
          budget: 20,
          nInit: 5,
          batch: 4,
        }),
      ],
    ],
  ]);
  for (const svg of [curvesSvg(runs, 'evaluations', 400, 'e'), curvesSvg(runs, 'compute', 400, 'c')]) {
    assert.match(svg, /^<svg /);
    assert.match(svg, />random</);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  }
  const fsvg = fidelitySvg(fidelitySpearman(t), tn.seedVsSeed, 'f');
  assert.match(fsvg, />400</);
  assert.doesNotMatch(fsvg, /NaN/);
  const tsvg = tableSvg(t, 't');
  // A circle per configuration that is not single-method (9 are), plus the legend's two circles.
  assert.equal((tsvg.match(/<circle /g) ?? []).length, t.configs.length - 9 + 2);
  assert.doesNotMatch(tsvg, /NaN/);
});
