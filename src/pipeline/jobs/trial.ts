/**
 * The trial job: `runTrial` (src/train/trial.ts) as an exec job, with the codecs of what crosses
 * the process boundary (the spec, the result, the training events). The search, retrain,
 * baselines and transfer run it through `runJob(executor, TRIAL_JOB, spec, onEvent)`, inline or
 * in a pool worker; the module names itself, so it resolves from sources (tsx) and from dist/.
 */
import * as c from '../../exec/codec.js';
import type { Codec } from '../../exec/codec.js';
import { jobFunction, type JobType } from '../../exec/job.js';
import { METRIC_NAMES } from '../../data/tasks/types.js';
import { CLASSIFIER_HEADS, PAIR_ENCODINGS, PAIR_HEADS } from '../../models/types.js';
import { PARAM_DENOMINATORS } from '../../peft/params.js';
import { SA_FORMS, type PeftConfig } from '../../peft/config.js';
import type { TrainEvent, TrainHyper } from '../../train/trainer.js';
import { runTrial, type Fidelity, type TrialResult, type TrialSpec } from '../../train/trial.js';

const peftConfig: Codec<PeftConfig> = c.object<PeftConfig>({
  layers: c.array(c.boolean),
  sa: c.number,
  pa: c.number,
  pt: c.number,
  lora: c.number,
  options: c.object<PeftConfig['options']>({
    paScaling: c.number,
    ptBottleneck: c.number,
    loraAlpha: c.number,
    saForm: c.literal(...SA_FORMS),
  }),
});

const hyper: Codec<TrainHyper> = c.object<TrainHyper>({
  epochs: c.number,
  maxSteps: c.optional(c.number),
  lr: c.number,
  batchSize: c.number,
  evalBatchSize: c.optional(c.number),
  maxLength: c.number,
  seed: c.number,
  warmupRatio: c.optional(c.number),
  weightDecay: c.optional(c.number),
  patience: c.optional(c.number),
  seqBucket: c.optional(c.number),
  threads: c.optional(c.number),
  maxGradNorm: c.optional(c.number),
  checkpoints: c.optional(c.array(c.number)),
});

const fidelity: Codec<Fidelity> = c.object<Fidelity>({
  trainFraction: c.optional(c.number),
  trainCount: c.optional(c.number),
  epochs: c.optional(c.number),
  maxSteps: c.optional(c.number),
});

export const trialSpecCodec: Codec<TrialSpec> = c.object<TrialSpec>({
  model: c.string,
  task: c.string,
  dataDir: c.optional(c.string),
  peft: peftConfig,
  fullFineTune: c.optional(c.boolean),
  hyper,
  fidelity: c.optional(fidelity),
  reportDev: c.optional(c.boolean),
  splitSeed: c.optional(c.number),
  layerCache: c.optional(c.boolean),
  frozenDropout: c.optional(c.number),
  saveDir: c.optional(c.string),
  pairEncoding: c.optional(c.literal(...PAIR_ENCODINGS)),
  pairHead: c.optional(c.literal(...PAIR_HEADS)),
  metric: c.optional(c.literal(...METRIC_NAMES)),
  head: c.optional(c.literal(...CLASSIFIER_HEADS)),
  paramDenominator: c.optional(c.literal(...PARAM_DENOMINATORS)),
});

const metrics = c.record(c.number);

export const trialResultCodec: Codec<TrialResult> = c.object<TrialResult>({
  metric: c.number,
  metricName: c.string,
  metrics,
  devMetric: c.optional(c.number),
  devMetrics: c.optional(metrics),
  paramPct: c.number,
  peft: peftConfig,
  trainableParams: c.number,
  trainSeconds: c.number,
  epochs: c.number,
  bestEpoch: c.number,
  steps: c.number,
  trainExamples: c.number,
  validationExamples: c.number,
  devExamples: c.optional(c.number),
  curve: c.array(
    c.object<TrialResult['curve'][number]>({ examples: c.number, metric: c.number, trainSeconds: c.number }),
  ),
  stoppedAt: c.optional(c.number),
  description: c.string,
  savedTo: c.optional(c.string),
  pairEncoding: c.optional(c.literal(...PAIR_ENCODINGS)),
  head: c.optional(c.literal(...CLASSIFIER_HEADS)),
});

type Ev<K extends TrainEvent['kind']> = Extract<TrainEvent, { kind: K }>;
export const trainEventCodec: Codec<TrainEvent> = c.byKind<TrainEvent>({
  start: c.object<Ev<'start'>>({
    kind: c.literal('start'),
    totalSteps: c.number,
    epochs: c.number,
    trainExamples: c.number,
  }),
  step: c.object<Ev<'step'>>({
    kind: c.literal('step'),
    step: c.number,
    totalSteps: c.number,
    epoch: c.number,
    loss: c.number,
    lr: c.number,
  }),
  eval: c.object<Ev<'eval'>>({
    kind: c.literal('eval'),
    epoch: c.number,
    metric: c.number,
    metrics: c.record(c.number, METRIC_NAMES),
    best: c.boolean,
    seconds: c.number,
  }),
  checkpoint: c.object<Ev<'checkpoint'>>({
    kind: c.literal('checkpoint'),
    examples: c.number,
    examplesSeen: c.number,
    step: c.number,
    metric: c.number,
    metrics: c.record(c.number, METRIC_NAMES),
    trainSeconds: c.number,
    seconds: c.number,
  }),
  cache: c.object<Ev<'cache'>>({
    kind: c.literal('cache'),
    layer: c.number,
    examples: c.number,
    bytes: c.number,
    seconds: c.number,
    skipped: c.optional(c.string),
    shared: c.optional(c.object<NonNullable<Ev<'cache'>['shared']>>({ hits: c.number, misses: c.number })),
  }),
});

export const TRIAL_JOB: JobType<TrialSpec, TrialResult, TrainEvent> = {
  module: import.meta.url,
  fn: 'runTrialJob',
  args: trialSpecCodec,
  result: trialResultCodec,
  event: trainEventCodec,
};

/**
 * The worker side of TRIAL_JOB: one trial, its step events forwarded at most ~4 a second (the
 * others all); the caller's stop request (a pruner's verdict on a checkpoint) ends training early.
 */
export const runTrialJob = jobFunction(TRIAL_JOB, (spec, ctx) => {
  let last = 0;
  const stop = ctx.stop;
  return runTrial(spec, {
    threads: ctx.threads,
    signal: ctx.signal,
    ...(stop ? { stop: () => stop.aborted } : {}),
    onEvent: (e) => {
      const now = Date.now();
      if (e.kind === 'step' && now - last < 250 && e.step !== e.totalSteps) return;
      last = now;
      ctx.progress(e);
    },
  });
});
