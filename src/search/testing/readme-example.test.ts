// The README's search example, kept running: an ask/tell loop with the BO sampler on the
// synthetic PEFT problem (swap `problem.observe` for a real training run).
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('README search example runs', async () => {
  // --- README snippet start ---
  const { autopeftSpace, autopeftObjectives, Rng } = await import('../space/index.js');
  const { BoSampler } = await import('../samplers/index.js');
  const { hypervolumeWithDirections, inferReferencePoint, toMinimization } = await import('../pareto/index.js');
  const { syntheticPeft } = await import('./synthetic.js');
  type FrozenTrial = import('../types.js').FrozenTrial;

  const model = { numLayers: 12, hidden: 768, backboneParams: 110e6 };
  const space = autopeftSpace(model); // layer_0..layer_11, sa, pa, pt
  const objectives = autopeftObjectives(model); // metric (max, modelled), paramPct (min, known)
  const sampler = new BoSampler({ space, objectives, seed: 0, nInit: 8 });
  const problem = syntheticPeft({ numLayers: 12, hidden: 768, paramScale: 'linear' });
  const rng = new Rng(0);
  const trials: FrozenTrial[] = [];
  for (let round = 0; round < 4; round++) {
    for (const config of await sampler.sample({ complete: trials, pending: [], n: 4 })) {
      const metric = problem.observe(config, rng); // your training + dev evaluation here
      const values = [metric, objectives[1]!.known!(config)];
      trials.push({ number: trials.length, state: 'COMPLETE', config, values, userAttrs: {}, createdAt: Date.now() });
    }
  }
  const values = trials.map((t) => t.values!);
  const ref = inferReferencePoint(toMinimization(values, ['maximize', 'minimize'])); // minimisation convention
  const hv = hypervolumeWithDirections(values, ['maximize', 'minimize'], [-ref[0]!, ref[1]!]);
  // --- README snippet end ---
  assert.equal(trials.length, 16);
  assert.ok(hv > 0);
});
