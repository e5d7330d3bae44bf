import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autopeftSpace } from '../space/autopeft.js';
import { SearchSpace } from '../space/space.js';
import type { FrozenTrial } from '../../trials/index.js';
import { enumerateSpace, GridSampler } from './grid.js';

test('enumerateSpace lists exactly the valid configs (brute force on the AutoPEFT rule)', () => {
  const space = autopeftSpace({ numLayers: 2, hidden: 4 });
  const all = enumerateSpace(space);
  // sizes {0,1,2,4}: 3 non-empty masks x (4^3 - 1) non-empty module choices.
  assert.equal(all.length, 3 * 63);
  assert.equal(new Set(all.map((c) => space.key(c))).size, all.length);
  assert.ok(all.every((c) => space.isValid(c)));
  const floats = new SearchSpace([{ kind: 'float', name: 'lr', low: 0, high: 1 }]);
  assert.throws(() => enumerateSpace(floats), /float/);
  assert.throws(() => enumerateSpace(space, 10), /restrict/);
});

test('GridSampler: seeded order, each config once, skips completed and pending, ends empty', () => {
  const space = autopeftSpace({ numLayers: 2, hidden: 4 });
  const a = new GridSampler({ space, seed: 1 });
  const b = new GridSampler({ space, seed: 1 });
  const c = new GridSampler({ space, seed: 2 });
  assert.deepEqual(a.order, b.order);
  assert.notDeepEqual(a.order.slice(0, 10), c.order.slice(0, 10));
  const complete: FrozenTrial[] = [];
  const seen = new Set<string>();
  const pending = a.sample({ complete, pending: [], n: 5 });
  for (;;) {
    const next = a.sample({ complete, pending, n: 7 });
    for (const cfg of next) assert.ok(!pending.some((p) => space.key(p) === space.key(cfg)));
    if (next.length === 0) break;
    for (const cfg of next) {
      assert.ok(!seen.has(space.key(cfg)), 'a config came twice');
      seen.add(space.key(cfg));
      complete.push({
        number: complete.length,
        state: 'COMPLETE',
        config: cfg,
        values: [0],
        userAttrs: {},
        createdAt: 0,
      });
    }
  }
  assert.equal(seen.size + pending.length, a.order.length);
});
