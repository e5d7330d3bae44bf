import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FrozenTrial, ObjectiveSpec } from '../types.js';
import { SearchSpaceError } from '../space/errors.js';
import { AshaPruner, createPruner, NopPruner, promotionOrder } from './index.js';

const OBJ: ObjectiveSpec[] = [
  { name: 'metric', direction: 'maximize' },
  { name: 'paramPct', direction: 'minimize', known: (c) => Number(c.pct) },
];

/** A trial that reported `curve` (step -> value) with param % `pct`. */
function trial(
  number: number,
  pct: number,
  curve: [number, number][],
  state: FrozenTrial['state'] = 'RUNNING',
): FrozenTrial {
  return {
    number,
    state,
    config: { pct },
    userAttrs: {},
    createdAt: number,
    intermediateValues: curve.map(([step, value]) => ({ step, value })),
  };
}

describe('pruners', () => {
  it('promotionOrder: non-dominated rank first, then crowding distance, then the tiebreak', () => {
    // Minimisation points: 0 and 1 and 2 form the first front (2 in its middle), 3 is dominated by 2.
    const pts = [
      [0, 3],
      [3, 0],
      [1, 1],
      [2, 2],
    ];
    assert.deepEqual(promotionOrder(pts, [0, 1, 2, 3]), [0, 1, 2, 3]);
    // Equal points tie on rank and crowding: the smaller tiebreak wins.
    assert.deepEqual(promotionOrder([[1], [1], [0]], [7, 3, 9]), [2, 1, 0]);
  });

  it('ASHA with one objective: the best 1/eta at a rung go on, the rest stop; other steps never prune', () => {
    const metricOnly: ObjectiveSpec[] = [{ name: 'metric', direction: 'maximize' }];
    const p = new AshaPruner({ objectives: metricOnly, rungs: [100, 200], eta: 2, minTrials: 4 });
    const others = [
      trial(0, 1, [[100, 0.6]], 'COMPLETE'),
      trial(1, 1, [[100, 0.7]], 'PRUNED'),
      trial(2, 1, [[100, 0.8]]),
    ];
    // Three at the rung with this one: fewer than minTrials, so it goes on whatever its value.
    assert.equal(p.shouldPrune(trial(3, 1, [[100, 0.5]]), others.slice(0, 2)), false);
    // Four at the rung: the best ceil(4/2) = 2 (0.8 and the new 0.75) go on, 0.65 stops.
    assert.equal(p.shouldPrune(trial(3, 1, [[100, 0.75]]), others), false);
    assert.equal(p.shouldPrune(trial(3, 1, [[100, 0.65]]), others), true);
    // The trial itself among `trials` (as the loop passes them) is counted once.
    const self = trial(3, 1, [[100, 0.65]]);
    assert.equal(p.shouldPrune(self, [...others, self]), true);
    // A step that is not a rung is never judged.
    assert.equal(p.shouldPrune(trial(3, 1, [[150, 0.1]]), others), false);
    // The later rung compares only trials that reached it: alone there, it goes on.
    assert.equal(
      p.shouldPrune(
        trial(3, 1, [
          [100, 0.9],
          [200, 0.1],
        ]),
        others,
      ),
      false,
    );
  });

  it('MO-ASHA: a cheap trial with a lower value is promoted when it is on the rung front', () => {
    const p = new AshaPruner({ objectives: OBJ, rungs: [100], eta: 2, minTrials: 4 });
    const others = [
      trial(0, 10, [[100, 0.9]], 'COMPLETE'),
      trial(1, 10, [[100, 0.85]], 'COMPLETE'),
      trial(2, 10, [[100, 0.8]], 'COMPLETE'),
    ];
    // Value 0.7 at 0.1% params: non-dominated (the cheapest), promoted although its value is lowest.
    assert.equal(p.shouldPrune(trial(3, 0.1, [[100, 0.7]]), others), false);
    // The same value at 10% params is dominated by all three: pruned.
    assert.equal(p.shouldPrune(trial(3, 10, [[100, 0.7]]), others), true);
    // Single-objective ASHA would prune the cheap one too.
    const so = new AshaPruner({ objectives: [OBJ[0]!], rungs: [100], eta: 2, minTrials: 4 });
    assert.equal(so.shouldPrune(trial(3, 0.1, [[100, 0.7]]), others), true);
  });

  it('minimised objectives are honoured, and bad options are typed errors', () => {
    const loss: ObjectiveSpec[] = [{ name: 'loss', direction: 'minimize' }];
    const p = new AshaPruner({ objectives: loss, rungs: [1], eta: 2, minTrials: 2 });
    assert.equal(p.shouldPrune(trial(1, 0, [[1, 0.1]]), [trial(0, 0, [[1, 0.5]])]), false);
    assert.equal(p.shouldPrune(trial(1, 0, [[1, 0.9]]), [trial(0, 0, [[1, 0.5]])]), true);
    assert.throws(() => new AshaPruner({ objectives: OBJ, rungs: [200, 100] }), SearchSpaceError);
    assert.throws(() => new AshaPruner({ objectives: OBJ, rungs: [100], eta: 1 }), SearchSpaceError);
    assert.throws(() => new AshaPruner({ objectives: [OBJ[1]!], rungs: [100] }), SearchSpaceError);
    assert.throws(() => createPruner('asha', { objectives: OBJ }), /needs rungs/);
    assert.throws(() => createPruner('median', { objectives: OBJ }), /unknown; use one of none, asha/);
    assert.ok(createPruner('none', { objectives: OBJ }) instanceof NopPruner);
    assert.deepEqual(createPruner('asha', { objectives: OBJ, rungs: [5, 10] }).steps, [5, 10]);
  });
});
