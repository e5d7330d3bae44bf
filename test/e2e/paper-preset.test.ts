/**
 * `autopeft search --preset paper` through the real CLI process, on a tiny random BERT and the toy
 * task (given three metrics, F1 its main one): every value of the preset reaches the trials (lr and
 * the training settings in the setup each trial is built from; the metric each trial selected on and
 * reports; the fresh head each trial trained; param % over the encoder + pooler; the serial adapter
 * form; the fixed reference point, which `report` then uses), each flag overrides its preset value,
 * a resumed study with another metric is refused, and a metric the task lacks is one line listing
 * the task's metrics. The searches run as CLI processes; the checks that train nothing run in-process.
 * docs/paper-protocol.md is the table.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import { paramPct } from '../../src/search/space/autopeft.js';
import type { SearchSetup } from '../../src/pipeline/attrs.js';
import type { FrozenTrial } from '../../src/trials/index.js';
import { runCli } from '../../src/cli/testing.js';
import { writeToyTask } from '../helpers/toy-task.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
const H = 32;
let dir: string;
let task: string;
let db: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-paper-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: H, heads: 2, std: 0.1 });
  writeToyTask(dir);
  // The toy task's files with three metrics; F1 is its own main metric, the preset picks accuracy.
  task = join(dir, 'toy3.json');
  writeFileSync(
    task,
    JSON.stringify({
      name: 'toy3',
      format: 'tsv',
      files: { train: 'train.tsv', dev: 'dev.tsv' },
      textColumns: ['sentence'],
      labelColumn: 'label',
      labels: ['0', '1'],
      metrics: ['f1', 'accuracy', 'mcc'],
      mainMetric: 'f1',
    }),
  );
  db = join(dir, 'studies.sqlite');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** `search --preset paper` on the tiny model, cut to a few short trials (flags beat the preset). */
const searchArgs = (study: string, extra: string[]) => [
  'search',
  '--preset',
  'paper',
  '--model',
  join(dir, 'tiny'),
  '--task',
  task,
  '--epochs',
  '1',
  '--max-length',
  '24',
  '--storage',
  db,
  '--study',
  study,
  '--threads',
  '1',
  '--quiet',
  '--json',
  ...extra,
];

async function stored(study: string): Promise<{ setup: SearchSetup; trials: FrozenTrial[]; retrain: unknown }> {
  const s = openSqliteStorage(db);
  try {
    const record = await s.getStudy(study);
    return {
      setup: record.systemAttrs['autopeft'] as unknown as SearchSetup,
      trials: await s.listTrials(study, { states: ['COMPLETE'] }),
      retrain: record.systemAttrs['retrain'],
    };
  } finally {
    await s.close();
  }
}

/** The param % of a trial's config over the encoder, or the encoder + pooler. */
const pctOf = (t: FrozenTrial, setup: SearchSetup, d: 'encoder' | 'with-pooler') =>
  paramPct(t.config, {
    numLayers: 2,
    hidden: H,
    backboneParams: setup.backboneParams,
    poolerParams: H * H + H,
    paramDenominator: d,
  });

test('search --preset paper: every preset value reaches the trials; report uses the fixed reference point', async () => {
  const r = await cli(searchArgs('paper', ['--trials', '3', '--n-init', '2']));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).complete, 3);
  assert.match(
    r.stderr,
    /preset paper: set lr, batchSize, patience, warmupRatio, weightDecay, metric, saForm, head, paramDenominator, batch, refPoint\n/,
  );

  const { setup, trials } = await stored('paper');
  // Training: the preset's (lr 1e-4, batch 32, patience 10, no warm-up, no decay) but the flags' epochs and length.
  assert.deepEqual(
    { ...setup.hyper, checkpoints: undefined },
    {
      epochs: 1,
      lr: 1e-4,
      batchSize: 32,
      maxLength: 24,
      seed: 0,
      patience: 10,
      warmupRatio: 0,
      weightDecay: 0,
      checkpoints: undefined,
    },
  );
  assert.equal(setup.metric, 'accuracy', "the reference's metric, not the task's main one (f1)");
  assert.equal(setup.head, 'fresh');
  assert.equal(setup.paramDenominator, 'with-pooler');
  assert.deepEqual(setup.refPoint, [0.7, 26]);
  assert.equal(setup.saForm, 'pfeiffer');
  assert.equal(trials.length, 3);
  for (const t of trials) {
    const a = t.userAttrs as Record<string, unknown>;
    assert.equal(a.metricName, 'accuracy');
    assert.equal(t.values![0], (a.metrics as Record<string, number>).accuracy, 'the objective is the accuracy');
    assert.equal(a.head, 'fresh', 'the trial trained the fresh head');
    assert.ok(Math.abs(t.values![1]! - pctOf(t, setup, 'with-pooler')) < 1e-12);
    assert.ok(t.values![1]! < pctOf(t, setup, 'encoder'), 'the pooler is in the denominator');
    if ((t.config.sa as number) > 0) assert.match(a.description as string, /saForm pfeiffer/);
  }

  // The report's hypervolume is on the study's reference point.
  const rep = await runCli(['report', '--study', 'paper', '--storage', db, '--out', join(dir, 'report'), '--json']);
  assert.equal(rep.code, 0, rep.stderr);
  const json = JSON.parse(rep.stdout);
  assert.deepEqual(json.refPoint, [0.7, 26]);
  const md = readFileSync(join(dir, 'report', 'report.md'), 'utf8');
  for (const line of [/metric \| accuracy/, /param % denominator \| with-pooler/, /head \| fresh/])
    assert.match(md, line);

  // retrain --preset paper: the study's task resolves the metric; the front trial re-trained with the
  // fresh head, counted over the encoder + pooler (flags cut the seeds and epochs).
  const first = trials.find((t) => (t.config.sa as number) > 0) ?? trials[0]!;
  const rt = await runCli([
    'retrain',
    '--study',
    'paper',
    '--storage',
    db,
    '--preset',
    'paper',
    '--trials',
    String(first.number),
    '--seeds',
    '1',
    '--epochs',
    '1',
    '--max-length',
    '24',
    '--threads',
    '1',
    '--quiet',
    '--json',
  ]);
  assert.equal(rt.code, 0, rt.stderr);
  assert.match(rt.stderr, /preset paper: set [^;]*metric, saForm, head, paramDenominator/);
  const [res] = rt.json().results as { metricName: string; paramPct: number; values: number[] }[];
  assert.equal(res!.metricName, 'accuracy');
  assert.ok(Math.abs(res!.paramPct - pctOf(first, setup, 'with-pooler')) < 1e-12);
  assert.deepEqual(
    (rt.json().results as Record<string, unknown>[]).map(({ config: _, ...r }) => r),
    (await stored('paper')).retrain,
  );

  // transfer --metric: checked against the target task (the toy task reports accuracy only) before any training.
  const tr = await runCli([
    'transfer',
    '--study',
    'paper',
    '--storage',
    db,
    '--task',
    join(dir, 'toy.json'),
    '--metric',
    'f1',
  ]);
  assert.equal(tr.code, 2);
  assert.match(tr.stderr, /--metric f1: task toy reports accuracy; choose one of them/);

  // Resuming with another metric (or head) is refused before any training.
  const again = await runCli(searchArgs('paper', ['--trials', '4', '--n-init', '2', '--metric', 'mcc']));
  assert.equal(again.code, 2);
  assert.match(again.stderr, /--metric accuracy \(stored\) vs mcc \(now\)/);
});

test('search --preset paper: each flag overrides its preset value', async () => {
  const r = await cli(
    searchArgs('flags', [
      '--trials',
      '1',
      '--n-init',
      '1',
      '--sampler',
      'random',
      '--lr',
      '0.002',
      '--metric',
      'mcc',
      '--head',
      'pooler',
      '--param-denominator',
      'encoder',
      '--sa-form',
      'houlsby',
      '--ref-point',
      '0.5,10',
    ]),
  );
  assert.equal(r.code, 0, r.stderr);
  const { setup, trials } = await stored('flags');
  assert.equal(setup.hyper.lr, 0.002);
  assert.equal(setup.hyper.patience, 10, 'what no flag names still comes from the preset');
  assert.deepEqual(
    [setup.metric, setup.head, setup.paramDenominator, setup.saForm, setup.refPoint],
    ['mcc', 'pooler', 'encoder', 'houlsby', [0.5, 10]],
  );
  const t = trials[0]!;
  const a = t.userAttrs as Record<string, unknown>;
  assert.equal(a.metricName, 'mcc');
  assert.equal(a.head, 'pooler');
  assert.ok(Math.abs(t.values![1]! - pctOf(t, setup, 'encoder')) < 1e-12);
  assert.doesNotMatch(a.description as string, /saForm/);
});

test('--metric the task does not report: one line listing its metrics, no study made', async () => {
  const r = await runCli(searchArgs('bad', ['--trials', '1', '--metric', 'spearman']));
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--metric spearman: task toy3 reports f1, accuracy, mcc; choose one of them/);
  assert.equal(r.stderr.trim().split('\n').length, 2, `the preset line and the error:\n${r.stderr}`);
  const s = openSqliteStorage(db);
  try {
    assert.equal(await s.findStudy('bad'), undefined);
  } finally {
    await s.close();
  }
});

test('train --metric --head fresh --param-denominator with-pooler: recorded in the adapter; evaluate scores it alike', async () => {
  const out = join(dir, 'adapter');
  const t = await runCli([
    'train',
    '--model',
    join(dir, 'tiny'),
    '--task',
    task,
    '--peft',
    '{"sa": 4, "saForm": "pfeiffer"}',
    '--metric',
    'mcc',
    '--head',
    'fresh',
    '--param-denominator',
    'with-pooler',
    '--max-steps',
    '4',
    '--max-length',
    '24',
    '--batch-size',
    '16',
    '--threads',
    '1',
    '--out',
    out,
    '--quiet',
    '--json',
  ]);
  assert.equal(t.code, 0, t.stderr);
  const j = t.json() as {
    metricName: string;
    head: string;
    metric: number;
    metrics: Record<string, number>;
    paramPct: number;
  };
  assert.deepEqual([j.metricName, j.head], ['mcc', 'fresh']);
  assert.equal(j.metric, j.metrics.mcc, 'the dev metric reported is the one selected on');
  // 2 layers x 2·H·4 over the encoder + pooler.
  const backboneParams = (await stored('paper')).setup.backboneParams;
  assert.ok(Math.abs(j.paramPct - (100 * 2 * 2 * H * 4) / (backboneParams + H * H + H)) < 1e-12);
  const config = JSON.parse(readFileSync(join(out, 'autopeft_adapter.json'), 'utf8')) as {
    extra: Record<string, unknown>;
  };
  assert.deepEqual(
    [config.extra.metricName, config.extra.head, config.extra.paramDenominator],
    ['mcc', 'fresh', 'with-pooler'],
  );
  // The fresh head's weights sit in the pooler's slot: evaluate rebuilds the trained classifier exactly.
  const e = await runCli(['evaluate', '--adapter', out, '--max-length', '24', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const ej = e.json() as { metricName: string; metrics: Record<string, number> };
  assert.equal(ej.metricName, 'mcc', 'the metric the adapter was selected on');
  for (const [k, v] of Object.entries(j.metrics))
    assert.ok(Math.abs(ej.metrics[k]! - v) < 1e-9, `${k}: ${ej.metrics[k]} vs ${v}`);
  // The export's model card says which head and denominator the adapter was trained with.
  const ex = await runCli(['export', '--adapter', out, '--format', 'adapters', '--out', join(dir, 'export')]);
  assert.equal(ex.code, 0, ex.stderr);
  const card = readFileSync(join(dir, 'export', 'README.md'), 'utf8');
  assert.match(card, /of the backbone with its pooler/);
  assert.match(card, /classification head: fresh/);
  assert.match(card, /selected on: validation mcc/);
  const f1 = await runCli(['evaluate', '--adapter', out, '--max-length', '24', '--metric', 'f1', '--json']);
  assert.equal(f1.code, 0, f1.stderr);
  assert.equal((f1.json() as { metricName: string }).metricName, 'f1');
});
