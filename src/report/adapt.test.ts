import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportTrialsFromFrozen } from './adapt.js';
import type { FrozenTrial } from '../search/types.js';

test('reportTrialsFromFrozen maps values, durations and reasons', () => {
  const frozen: FrozenTrial[] = [
    {
      number: 0,
      state: 'COMPLETE',
      config: { layer_0: true, sa: 3 },
      values: [0.81, 0.02],
      userAttrs: {},
      createdAt: 1,
      startedAt: 1000,
      finishedAt: 4500,
    },
    {
      number: 1,
      state: 'FAILED',
      config: { layer_0: false, pa: 6 },
      reason: 'NaN loss',
      userAttrs: {},
      createdAt: 2,
      startedAt: 2000,
      finishedAt: 2500,
    },
    { number: 2, state: 'RUNNING', config: { layer_0: true, pt: 1 }, userAttrs: {}, createdAt: 3, startedAt: 3000 },
  ];
  assert.deepEqual(reportTrialsFromFrozen(frozen), [
    { number: 0, state: 'COMPLETE', config: { layer_0: true, sa: 3 }, metric: 0.81, paramPct: 0.02, durationMs: 3500 },
    { number: 1, state: 'FAILED', config: { layer_0: false, pa: 6 }, durationMs: 500, reason: 'NaN loss' },
    { number: 2, state: 'RUNNING', config: { layer_0: true, pt: 1 } },
  ]);
});
