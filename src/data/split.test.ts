import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carveValidation, resolveSize, stratifiedSelect, subsample } from './split.js';
import { DataError } from './errors.js';
import type { Example } from './tasks/types.js';

const make = (labels: number[]): Example[] => labels.map((label, i) => ({ text: `t${i}`, label }));
const count = (xs: Example[], c: number): number => xs.filter((e) => e.label === c).length;

test('stratified quotas by largest remainder, exact total, sorted indices', () => {
  // 70 of class 0, 20 of class 1, 10 of class 2; choose 15: exact 10.5, 3, 1.5 -> 10 + 3 + 1 = 14, +1 to the
  // largest remainder (tie 0.5 / 0.5: the class seen first, 0) -> 11, 3, 1
  const labels = [...new Array(70).fill(0), ...new Array(20).fill(1), ...new Array(10).fill(2)];
  const idx = stratifiedSelect(labels, 15, { seed: 3 });
  assert.equal(idx.length, 15);
  const per = [0, 0, 0];
  for (const i of idx) per[labels[i]]++;
  assert.deepEqual(per, [11, 3, 1]);
  for (let j = 1; j < idx.length; j++) assert.ok(idx[j] > idx[j - 1]);
});

test('same seed -> same selection; other seed -> other selection', () => {
  const labels = Array.from({ length: 200 }, (_, i) => i % 3);
  assert.deepEqual(stratifiedSelect(labels, 40, { seed: 1 }), stratifiedSelect(labels, 40, { seed: 1 }));
  assert.notDeepEqual(stratifiedSelect(labels, 40, { seed: 1 }), stratifiedSelect(labels, 40, { seed: 2 }));
});

test('carveValidation: disjoint, union is train, order kept, stratified, capped', () => {
  const train = make(Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 1 : 0)));
  const { train: rest, validation } = carveValidation(train, { fraction: 0.1, seed: 0 });
  assert.equal(validation.length, 100);
  assert.equal(rest.length, 900);
  assert.equal(count(validation, 1), 25);
  const all = new Set([...rest, ...validation]);
  assert.equal(all.size, 1000);
  // original relative order kept in both parts
  const pos = new Map(train.map((e, i) => [e, i]));
  for (const part of [rest, validation])
    for (let j = 1; j < part.length; j++) assert.ok(pos.get(part[j])! > pos.get(part[j - 1])!);
  // default cap: 10% of 20,000 = 2,000 -> 1,000
  const big = make(new Array(20000).fill(0));
  assert.equal(carveValidation(big).validation.length, 1000);
  assert.equal(carveValidation(big, { count: 1500 }).validation.length, 1500);
  assert.throws(() => carveValidation(make([0, 1]), { count: 2 }), DataError);
});

test('regression carve is stratified by label quantiles', () => {
  const train = make(Array.from({ length: 100 }, (_, i) => i / 20)); // 0 .. 4.95
  const { validation } = carveValidation(train, { count: 10, seed: 5, regression: true });
  // one example from each decile
  const deciles = new Set(validation.map((e) => Math.floor(e.label * 2)));
  assert.equal(deciles.size, 10);
});

test('subsample by count and fraction, stratified or not', () => {
  const ex = make(Array.from({ length: 300 }, (_, i) => (i < 60 ? 1 : 0)));
  const s = subsample(ex, { count: 50, seed: 9 });
  assert.equal(s.length, 50);
  assert.equal(count(s, 1), 10);
  assert.equal(subsample(ex, { fraction: 0.5 }).length, 150);
  assert.equal(subsample(ex, { count: 1000 }).length, 300);
  assert.equal(subsample(ex, { count: 50, stratified: false, seed: 9 }).length, 50);
  assert.throws(
    () => resolveSize({ fraction: 1.5 }, 10, 'subsample'),
    (e: unknown) => e instanceof DataError && /subsample\.fraction/.test(e.message),
  );
  assert.throws(() => resolveSize({}, 10, 'subsample'), DataError);
});
