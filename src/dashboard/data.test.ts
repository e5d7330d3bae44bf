import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hypervolumeWithDirections, Rng, type Direction } from '../search/index.js';
import { memoryStorage, type TrialRecord } from '../storage/index.js';
import {
  curveOf,
  dashTrial,
  dominanceOf,
  dominanceStatements,
  hypervolumeHistory,
  hypervolumeOverlay,
  parameterImportance,
  studyDetail,
} from './data.js';
import { buildStudy } from './testing/fixture.js';

describe('dashboard data', () => {
  it('parameter importance: the parameter that drives the metric dominates, a noise parameter scores ~0', () => {
    const rng = new Rng(3);
    const configs = Array.from({ length: 60 }, () => ({
      sa: [0, 8, 32, 128][rng.int(4)]!,
      layer_0: rng.float() < 0.5,
      noise: rng.int(3),
    }));
    const ys = configs.map((c) => 0.7 + 0.001 * c.sa + 0.005 * rng.normal());
    const imp = parameterImportance(configs, ys, 'accuracy');
    assert.equal(imp.params[0]!.name, 'sa');
    assert.ok(imp.params[0]!.importance > 0.8, String(imp.params[0]!.importance));
    for (const p of imp.params.slice(1)) assert.ok(p.importance < 0.08, `${p.name} ${p.importance}`);
    assert.match(imp.method, /functional-ANOVA/);
  });

  it('dominance: a baseline with fewer parameters and a better metric dominates, matched param % only', () => {
    const front = [
      { trial: 1, paramPct: 0.1, metric: 0.8 },
      { trial: 2, paramPct: 0.5, metric: 0.85 },
      { trial: 3, paramPct: 2, metric: 0.9 },
    ];
    const doms = dominanceOf(
      'maximize',
      front,
      [
        { method: 'PA 4', paramPct: 0.4, metric: 0.86 },
        { method: 'SA 64', paramPct: 3, metric: 0.95 },
      ],
      'search',
    );
    assert.deepEqual(
      doms.map((d) => [d.baseline, d.dominated.map((f) => f.trial)]),
      [['PA 4', [2]]],
    );
    const [s] = dominanceStatements(doms, 'search', 2);
    assert.match(s!, /baseline PA 4 \(0\.4 %, 0\.86\) dominates front configuration #2 \(0\.5 %, 0\.85\)/);
    assert.deepEqual(dominanceStatements([], 'dev', 2), [
      'No baseline dominates a front configuration on the official dev set (re-trained means).',
    ]);
  });

  it('reads learning curves stored as intermediateValues or as the trainer history', () => {
    assert.deepEqual(curveOf({ intermediateValues: { '2': 0.7, '1': 0.6 } }), [
      { step: 1, metric: 0.6 },
      { step: 2, metric: 0.7 },
    ]);
    assert.deepEqual(curveOf({ history: [{ epoch: 1, metric: 0.5, loss: 0.9 }] }), [
      { step: 1, metric: 0.5, loss: 0.9 },
    ]);
    assert.deepEqual(curveOf({}), []);
  });

  it("draws a trial's stored intermediate values before its attributes", async () => {
    const s = memoryStorage();
    await s.createStudy({ name: 'a', directions: ['maximize', 'minimize'] });
    await s.createTrial('a', { state: 'RUNNING', config: {}, workerId: 'w', userAttrs: { intermediateValues: [0.1] } });
    assert.deepEqual(dashTrial(await s.getTrial('a', 0)).curve, [{ step: 1, metric: 0.1 }]);
    await s.reportIntermediate('a', 0, 1000, 0.7);
    await s.reportIntermediate('a', 0, 500, 0.6);
    assert.deepEqual(dashTrial(await s.getTrial('a', 0)).curve, [
      { step: 500, metric: 0.6 },
      { step: 1000, metric: 0.7 },
    ]);
  });

  it('hypervolume history equals the hypervolume of every prefix, exactly (ties, duplicates, points past the reference)', () => {
    const rng = new Rng(7);
    for (const dirs of [
      ['maximize', 'minimize'],
      ['minimize', 'minimize'],
    ] as Direction[][]) {
      // Coarse grids make ties and duplicates common; some points lie past the reference point.
      const trials = Array.from(
        { length: 400 },
        (_, n) =>
          ({
            number: n,
            state: 'COMPLETE',
            config: {},
            values: [rng.int(40) / 40, rng.int(30) / 10],
            userAttrs: {},
            createdAt: 0,
            finishedAt: 1000 + rng.int(300),
          }) as TrialRecord,
      );
      const ref = dirs[0] === 'maximize' ? [0.1, 2.5] : [0.9, 2.5];
      const history = hypervolumeHistory(trials, dirs, ref);
      const byFinish = [...trials].sort((a, b) => a.finishedAt! - b.finishedAt! || a.number - b.number);
      assert.deepEqual(
        history.map((h) => h.trial),
        byFinish.map((t) => t.number),
      );
      const want = byFinish.map((_, k) =>
        hypervolumeWithDirections(
          byFinish.slice(0, k + 1).map((t) => t.values!),
          dirs,
          ref,
        ),
      );
      assert.deepEqual(
        history.map((h) => h.value),
        want,
      );
      assert.ok(want.at(-1)! > 0 && want.some((w, i) => i > 0 && w === want[i - 1]));
    }
  });

  it('overlays hypervolume histories on one shared reference point', async () => {
    const s = memoryStorage();
    await buildStudy(s, { name: 'a', complete: 6, followups: false });
    await buildStudy(s, { name: 'b', seed: 5, complete: 6, followups: false });
    const o = await hypervolumeOverlay(s, ['a', 'b', 'missing']);
    assert.deepEqual(
      o.series.map((x) => [x.study, x.points.length]),
      [
        ['a', 6],
        ['b', 6],
      ],
    );
    const own = await studyDetail(s, 'a');
    assert.ok(own!.refPoint && o.refPoint);
    // The shared point is at least as loose as each study's own (it covers both studies' nadirs).
    assert.ok(o.refPoint![0] <= own!.refPoint![0] && o.refPoint![1] >= own!.refPoint![1]);
    assert.equal(await studyDetail(s, 'missing'), undefined);
    await s.close();
  });
});
