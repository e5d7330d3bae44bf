// A resumable AutoPEFT-style search loop on SQLite (or in memory): run it twice with the same
// STUDY_DB and the second run continues the first. `train` stands in for a real low-fidelity run.
// Usage: STUDY_DB=runs/demo.db npx tsx src/search/study/example.ts
import { openStorage } from '../../storage/index.js';
import { RandomSampler } from '../samplers/index.js';
import { autopeftObjectives, autopeftSpace } from '../space/index.js';
import type { Config } from '../types.js';
import { createStudy } from './index.js';

const model = { numLayers: 4, hidden: 128, backboneParams: 4_400_000 };
const storage = openStorage(process.env.STUDY_DB ?? 'memory');
const study = await createStudy({
  storage,
  name: 'demo',
  objectives: autopeftObjectives(model), // metric (max, told) + paramPct (min, computed from the config)
  sampler: new RandomSampler({ space: autopeftSpace(model), seed: 7 }),
  loadIfExists: true, // rerunning resumes
  heartbeat: { intervalMs: 10_000, staleAfterMs: 60_000 }, // crashed workers' trials are re-queued
});
// A baseline by hand: serial adapters of size 16 in every layer (claimed before any sampling).
const allLayers = { layer_0: true, layer_1: true, layer_2: true, layer_3: true };
await study.enqueue({ ...allLayers, sa: 16, pa: 0, pt: 0 }, { skipIfExists: true });

function train(config: Config): number {
  const layers = [0, 1, 2, 3].filter((l) => config[`layer_${l}`] === true).length;
  const size = Number(config.sa) + Number(config.pa) + 0.5 * Number(config.pt);
  return 0.6 + 0.3 * (1 - Math.exp(-size / 32)) * Math.sqrt(layers / 4);
}

for (const trial of await study.askBatch(4)) {
  try {
    const metric = train(trial.config);
    await study.setTrialUserAttr(trial.number, 'fidelity', { epochs: 1 });
    await study.tell(trial.number, [metric]); // only the unknown objective: paramPct is filled in
  } catch (e) {
    await study.tell(trial.number, { state: 'FAILED', reason: String(e) });
  }
}
const front = (await study.bestTrials()).map((t) => ({
  trial: t.number,
  metric: t.values![0],
  paramPct: t.values![1],
}));
console.log(JSON.stringify({ trials: (await study.trials()).length, front }));
await study.close();
await storage.close();
