import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { applyPreset, getPreset, PAPER_PRESET, paperMetric, presetValues } from './presets.js';

test('paper preset: the reference protocol per command', () => {
  const search = presetValues(PAPER_PRESET, 'search', 'mrpc');
  assert.deepEqual(
    {
      lr: search.lr,
      batchSize: search.batchSize,
      maxLength: search.maxLength,
      epochs: search.epochs,
      patience: search.patience,
      warmupRatio: search.warmupRatio,
      weightDecay: search.weightDecay,
      nInit: search.nInit,
      batch: search.batch,
      trials: search.trials,
    },
    {
      lr: 1e-4,
      batchSize: 32,
      maxLength: 128,
      epochs: 20,
      patience: 10,
      warmupRatio: 0,
      weightDecay: 0,
      nInit: 100,
      batch: 4,
      trials: 200,
    },
  );
  // 100 random + 25 batches of 4.
  assert.equal(((search.trials as number) - (search.nInit as number)) / (search.batch as number), 25);
  assert.deepEqual(search.refPoint, [0.7, 26]);
  assert.equal(search.saForm, 'pfeiffer');
  assert.equal(search.head, 'fresh');
  assert.equal(search.paramDenominator, 'with-pooler');
  assert.equal(search.seeds, undefined, 'seeds belong to the final protocol');
  assert.deepEqual(presetValues(PAPER_PRESET, 'retrain', 'mrpc').seeds, [40, 41, 42, 43, 44]);
  assert.equal(presetValues(PAPER_PRESET, 'retrain', 'mrpc').nInit, undefined);
});

test('paper metric: accuracy for MRPC and QQP (not acc_and_f1), Spearman for STS-B, MCC for CoLA', () => {
  assert.equal(paperMetric('mrpc'), 'accuracy');
  assert.equal(paperMetric('QQP'), 'accuracy');
  assert.equal(paperMetric('sts-b'), 'spearman');
  assert.equal(paperMetric('stsb'), 'spearman');
  assert.equal(paperMetric('cola'), 'mcc');
  assert.equal(paperMetric('sst2'), 'accuracy');
  assert.equal(presetValues(PAPER_PRESET, 'search', 'stsb').metric, 'spearman');
});

test('a value the user gave wins over the preset; the rest is filled in and listed', () => {
  const { options, applied } = applyPreset(
    PAPER_PRESET,
    'search',
    { lr: 3e-4, epochs: 1, task: 'rte' },
    new Set(['lr']),
    'rte',
  );
  assert.equal(options.lr, 3e-4, 'the flag wins');
  assert.equal(options.epochs, 20, 'a default (not given) is replaced by the preset');
  assert.equal(options.task, 'rte');
  assert.equal(options.metric, 'accuracy');
  assert.ok(!applied.includes('lr'));
  assert.ok(applied.includes('epochs'));
});

test('an unknown preset is one line naming the flag and the known presets', () => {
  assert.throws(
    () => getPreset('papr'),
    (e: unknown) => e instanceof UsageError && /^--preset: unknown preset "papr" \(known: paper\)$/.test(e.message),
  );
  assert.equal(getPreset('paper'), PAPER_PRESET);
});

test('docs/paper-protocol.md lists every setting of the preset with its reference', () => {
  const doc = readFileSync(new URL('../../docs/paper-protocol.md', import.meta.url), 'utf8');
  for (const s of PAPER_PRESET.settings) {
    assert.ok(doc.includes(`\`${s.key}\``), `docs/paper-protocol.md lacks ${s.key}`);
    assert.ok(doc.includes(s.reference.split(' ')[0]!), `docs/paper-protocol.md lacks ${s.key}'s reference`);
  }
});
