import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyBert } from '../../models/testing/tiny.js';
import { writeToyTask } from '../../../test/helpers/toy-task.js';
import { loadJobFunction } from '../../exec/inline.js';
import { runJob } from '../../exec/job.js';
import { ProcessPoolExecutor } from '../../exec/pool.js';
import { DEFAULT_PEFT_OPTIONS } from '../../peft/config.js';
import type { TrainEvent } from '../../train/trainer.js';
import type { TrialResult, TrialSpec } from '../../train/trial.js';
import { TRIAL_JOB, trainEventCodec, trialResultCodec, trialSpecCodec } from './trial.js';

let dir: string;
let task: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-trial-job-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 16, heads: 2, std: 0.1 });
  task = writeToyTask(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const peft = {
  layers: [false, true],
  sa: 4,
  pa: 0,
  pt: 2,
  lora: 0,
  options: { ...DEFAULT_PEFT_OPTIONS, loraAlpha: 32 },
};

test('the trial codecs round-trip a spec, a result and every event kind through JSON text', () => {
  const spec: TrialSpec = {
    model: '/m',
    task: 'sst2',
    peft,
    hyper: { epochs: 1, lr: 1e-3, batchSize: 8, maxLength: 16, seed: 3, patience: 2 },
    fidelity: { trainCount: 100 },
    reportDev: true,
  };
  const text = (v: unknown) => JSON.parse(JSON.stringify(v));
  assert.deepEqual(trialSpecCodec.decode(text(trialSpecCodec.encode(spec)), 'spec'), spec);
  const result: TrialResult = {
    metric: 0.8,
    metricName: 'accuracy',
    metrics: { accuracy: 0.8 },
    devMetric: 0.75,
    devMetrics: { accuracy: 0.75 },
    paramPct: 0.5,
    peft,
    trainableParams: 1234,
    trainSeconds: 1.5,
    epochs: 1,
    bestEpoch: 1,
    steps: 10,
    trainExamples: 100,
    validationExamples: 50,
    devExamples: 40,
    curve: [
      { examples: 50, metric: 0.7, trainSeconds: 0.7 },
      { examples: 100, metric: 0.8, trainSeconds: 1.5 },
    ],
    description: 'SA4 PT2 @ layers 1',
  };
  assert.deepEqual(trialResultCodec.decode(text(trialResultCodec.encode(result)), 'result'), result);
  const events: TrainEvent[] = [
    { kind: 'start', totalSteps: 10, epochs: 1, trainExamples: 100 },
    { kind: 'step', step: 1, totalSteps: 10, epoch: 1, loss: 0.69, lr: 1e-3 },
    { kind: 'eval', epoch: 1, metric: 0.8, metrics: { accuracy: 0.8, f1: 0.7 }, best: true, seconds: 0.1 },
    { kind: 'cache', layer: 1, examples: 100, bytes: 4096, seconds: 0.2, skipped: 'too large' },
  ];
  for (const e of events) assert.deepEqual(trainEventCodec.decode(text(trainEventCodec.encode(e)), 'event'), e);
  assert.throws(
    () => trialSpecCodec.decode({ ...text(trialSpecCodec.encode(spec)), hyper: { epochs: 1 } }, 'runTrialJob args'),
    /^CodecError: runTrialJob args\.hyper\.lr: expected a value/,
  );
});

test('the trial job names its own module and runs a real trial in a pool worker', async () => {
  assert.equal(fileURLToPath(TRIAL_JOB.module), fileURLToPath(import.meta.url).replace('.test.ts', '.ts'));
  assert.equal(typeof (await loadJobFunction({ module: TRIAL_JOB.module, fn: TRIAL_JOB.fn, args: null })), 'function');
  const pool = new ProcessPoolExecutor({ workers: 1, threadsPerWorker: 1 });
  try {
    const events: TrainEvent['kind'][] = [];
    const spec: TrialSpec = {
      model: join(dir, 'tiny'),
      task,
      peft,
      hyper: { epochs: 1, lr: 1e-3, batchSize: 16, maxLength: 16, seed: 0 },
      fidelity: { trainCount: 48 },
    };
    const r = await runJob(pool, TRIAL_JOB, spec, (e) => events.push(e.kind));
    assert.ok(r.metric >= 0 && r.metric <= 1, String(r.metric));
    assert.deepEqual(r.peft, peft);
    assert.equal(r.trainExamples, 48);
    assert.ok(events.includes('start') && events.includes('eval'), events.join(','));
  } finally {
    await pool.close();
  }
});
