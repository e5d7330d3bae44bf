import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/random.js';
import { syntheticPeft } from './synthetic.js';

test('synthetic PEFT problem: the enumerated front dominates every sampled config (L = 6)', () => {
  const p = syntheticPeft({ numLayers: 6, hidden: 64 });
  const rng = new Rng(1);
  const configs = Array.from({ length: 3000 }, () => p.space.sample(rng));
  const front = p.trueFrontHypervolume();
  const sampled = p.hypervolumeOf(configs);
  assert.ok(sampled <= front + 1e-12, `${sampled} > ${front}`);
  assert.ok(sampled > 0.8 * front);
  // brute force over every valid config of a tiny space equals the enumerated front exactly
  const q = syntheticPeft({ numLayers: 3, hidden: 4 });
  const all = [];
  const sizes = [0, 1, 2, 4];
  for (let mask = 1; mask < 8; mask++)
    for (const sa of sizes)
      for (const pa of sizes)
        for (const pt of sizes) {
          if (sa + pa + pt === 0) continue;
          all.push({ layer_0: !!(mask & 1), layer_1: !!(mask & 2), layer_2: !!(mask & 4), sa, pa, pt });
        }
  assert.ok(Math.abs(q.hypervolumeOf(all) - q.trueFrontHypervolume()) < 1e-12);
});
