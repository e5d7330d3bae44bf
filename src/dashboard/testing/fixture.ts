/**
 * Test helper: a real-shaped AutoPEFT study written through the storage API, with no training.
 * Configs come from the real AutoPEFT space (USE-lite's 2 layers, H = 256), param % from the real
 * param-% function, the metric from a seeded smooth function of param % plus noise; the search
 * system attributes mirror what `autopeft search` stores, and the study gets retrain / baselines /
 * transfer results shaped as the pipeline stores them.
 */
import type { AttrValue, Config } from '../../search/index.js';
import { Rng, autopeftSpace, paramPct, paretoFrontIndices, toMinimization } from '../../search/index.js';
import type { Storage } from '../../storage/index.js';

export const MODEL = { numLayers: 2, hidden: 256, backboneParams: 6_900_000, attentionWidths: [256, 512] } as const;

export const SETUP = {
  model: 'use-lite',
  task: 'spam',
  numLayers: MODEL.numLayers,
  hidden: MODEL.hidden,
  backboneParams: MODEL.backboneParams,
  sampler: 'bo',
  seed: 0,
  hyper: { epochs: 2, lr: 0.001, batchSize: 32, maxLength: 64, seed: 0 },
  fidelity: { trainCount: 400 },
  lora: false,
};

export interface FakeTrial {
  config: Config;
  paramPct: number;
  metric: number;
}

/** The n-th fake trial of a seeded sequence: a valid config, its true param %, a plausible metric. */
export function fakeTrial(seed: number, n: number): FakeTrial {
  const space = autopeftSpace({ numLayers: MODEL.numLayers, hidden: MODEL.hidden });
  const rng = new Rng(seed * 1000 + n);
  const config = space.sample(rng);
  const pct = paramPct(config, MODEL);
  const metric = Math.min(0.99, 0.8 + 0.035 * Math.log10(1 + 100 * pct) + 0.02 * (rng.float() - 0.5));
  return { config, paramPct: pct, metric };
}

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

/** Writes one COMPLETE trial with the attributes the search stores and a learning curve. */
export async function addCompleteTrial(storage: Storage, study: string, seed: number, n: number, at = T0 + n * 60_000) {
  const f = fakeTrial(seed, n);
  const epochs = 3;
  const history: AttrValue = Array.from({ length: epochs }, (_, e) => ({
    epoch: e + 1,
    metric: f.metric - 0.03 * (epochs - 1 - e) ** 1.5,
    loss: 0.6 / (e + 1.5),
  }));
  return storage.createTrial(study, {
    state: 'COMPLETE',
    config: f.config,
    values: [f.metric, f.paramPct],
    startedAt: at,
    finishedAt: at + 20_000 + n * 1000,
    userAttrs: {
      metricName: 'accuracy',
      metrics: { accuracy: f.metric, f1: f.metric - 0.01 },
      trainableParams: Math.round((f.paramPct / 100) * MODEL.backboneParams) + 514,
      trainSeconds: 20 + n,
      epochs,
      bestEpoch: epochs,
      steps: 38,
      trainExamples: 400,
      description: `trial ${n}`,
      history,
    },
  });
}

export interface FixtureOptions {
  name?: string;
  sampler?: string;
  seed?: number;
  complete?: number;
  /** Add a failed, a running and a waiting trial. */
  others?: boolean;
  /** Add retrain / baselines / transfer results on the study. */
  followups?: boolean;
}

/** Creates the study and its trials; returns the complete trials' fake values by trial number. */
export async function buildStudy(storage: Storage, o: FixtureOptions = {}) {
  const name = o.name ?? 'demo';
  const seed = o.seed ?? 1;
  await storage.createStudy({
    name,
    directions: ['maximize', 'minimize'],
    objectiveNames: ['accuracy', 'paramPct'],
    systemAttrs: { autopeft: { ...SETUP, sampler: o.sampler ?? SETUP.sampler, seed } as unknown as AttrValue },
  });
  const numbers: number[] = [];
  for (let n = 0; n < (o.complete ?? 12); n++) numbers.push((await addCompleteTrial(storage, name, seed, n)).number);
  if (o.others ?? true) {
    const f = fakeTrial(seed, 100);
    await storage.createTrial(name, {
      state: 'FAILED',
      config: f.config,
      reason: 'out of memory in the training step',
      startedAt: T0,
      finishedAt: T0 + 5000,
    });
    await storage.createTrial(name, { state: 'RUNNING', config: fakeTrial(seed, 101).config, workerId: 'host:1234' });
    await storage.createTrial(name, { state: 'WAITING', config: fakeTrial(seed, 102).config });
  }
  if (o.followups ?? true) {
    const complete = await storage.listTrials(name, { states: ['COMPLETE'] });
    const front = paretoFrontIndices(
      toMinimization(
        complete.map((t) => t.values!),
        ['maximize', 'minimize'],
      ),
    )
      .map((i) => complete[i]!)
      .sort((a, b) => a.values![1]! - b.values![1]!);
    const pick = front.filter((_, i) => i % 3 === 0).slice(0, 4);
    const retrain = pick.map((t, i) => {
      const values = [0, 1, 2].map((s) => t.values![0]! - 0.01 + 0.004 * ((s + i) % 3));
      const mean = values.reduce((a, b) => a + b, 0) / 3;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
      return { trial: t.number, metricName: 'accuracy', values, mean, std, paramPct: t.values![1]! };
    });
    // One baseline tiny and strong enough to dominate some of the front, one weak and large.
    const minPct = front[0]!.values![1]!;
    const baselines = [
      {
        method: 'PA 4',
        config: { pa: 4 },
        metricName: 'accuracy',
        metric: 0.855,
        paramPct: minPct * 0.9,
        devValues: [0.845, 0.85, 0.855],
      },
      {
        method: 'SA 32',
        config: { sa: 32 },
        metricName: 'accuracy',
        metric: 0.8,
        paramPct: 2.5,
        devValues: [0.79, 0.8, 0.81],
      },
    ];
    const transfer = {
      sst2: pick.map((t, i) => ({
        trial: t.number,
        config: t.config,
        sourceMetric: t.values![0]!,
        paramPct: t.values![1]!,
        metricName: 'accuracy',
        values: [0.76 + 0.01 * i, 0.77 + 0.01 * i],
        mean: 0.765 + 0.01 * i,
        std: 0.007,
      })),
    };
    await storage.setStudySystemAttrs(name, {
      retrain: retrain as unknown as AttrValue,
      baselines: baselines as unknown as AttrValue,
      transfer: transfer as unknown as AttrValue,
    });
  }
  return { name, numbers };
}
