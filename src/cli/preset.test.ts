/**
 * `--preset paper` on search, retrain, baselines and transfer: the preset's values reach the
 * options the trial spec is built from (`hyperOf`, the same function the commands call), and a
 * flag, an AUTOPEFT_* variable or a --config key overrides any of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { buildProgram } from './main.js';
import { hyperOf } from './commands/train.js';
import { runCli } from './testing.js';

/** Parses `args` with the real command table; returns the options the action got and stderr. */
async function optionsOf(args: string[]): Promise<{ flags: Record<string, unknown>; stderr: string }> {
  let stderr = '';
  const sink = new Writable({
    write(c, _e, cb) {
      stderr += c.toString();
      cb();
    },
  });
  const program = buildProgram({ stdout: sink, stderr: sink });
  const cmd = program.commands.find((c: Command) => c.name() === args[0])!;
  let flags: Record<string, unknown> | undefined;
  cmd.action((f: Record<string, unknown>) => {
    flags = f;
  });
  await program.parseAsync(['node', 'autopeft', ...args]);
  assert.ok(flags, 'the action ran');
  return { flags, stderr };
}

type HyperFlags = Parameters<typeof hyperOf>[0];
const PAPER_HYPER = {
  epochs: 20,
  lr: 1e-4,
  batchSize: 32,
  maxLength: 128,
  patience: 10,
  warmupRatio: 0,
  weightDecay: 0,
};

test('search --preset paper: the reference training and budget reach the trial hyperparameters; a flag wins', async () => {
  const { flags, stderr } = await optionsOf([
    'search',
    '--task',
    'mrpc',
    '--model',
    'bert-base-uncased',
    '--preset',
    'paper',
    '--epochs',
    '2',
  ]);
  assert.deepEqual(hyperOf(flags as unknown as HyperFlags), { ...PAPER_HYPER, epochs: 2, seed: 0 });
  assert.equal(flags.trials, 200);
  assert.equal(flags.nInit, 100);
  assert.equal(flags.batch, 4);
  assert.match(
    stderr,
    /^preset paper: set lr, batchSize, maxLength, patience, warmupRatio, weightDecay, metric, saForm, head, paramDenominator, nInit, batch, trials, refPoint$/m,
  );
  assert.doesNotMatch(stderr, /set [^;]*epochs/, 'epochs was given on the command line');
  // The protocol settings, the metric resolved for the task (MRPC: accuracy, not acc_and_f1).
  assert.equal(flags.metric, 'accuracy');
  assert.equal(flags.saForm, 'pfeiffer');
  assert.equal(flags.head, 'fresh');
  assert.equal(flags.paramDenominator, 'with-pooler');
  assert.deepEqual(flags.refPoint, [0.7, 26]);
  // Without the preset: the command's own defaults.
  const plain = await optionsOf(['search', '--task', 'mrpc']);
  assert.deepEqual(hyperOf(plain.flags as unknown as HyperFlags), {
    epochs: 1,
    lr: 1e-3,
    batchSize: 32,
    maxLength: 64,
    seed: 0,
  });
  assert.equal(plain.stderr, '');
  for (const k of ['metric', 'saForm', 'head', 'paramDenominator', 'refPoint'])
    assert.equal(plain.flags[k], undefined, k);
});

test('search --preset paper: each protocol flag overrides the preset; a --config key too', async () => {
  const { flags, stderr } = await optionsOf([
    'search',
    '--task',
    'stsb',
    '--preset',
    'paper',
    '--metric',
    'pearson',
    '--head',
    'pooler',
    '--param-denominator',
    'encoder',
    '--sa-form',
    'houlsby',
    '--ref-point',
    '0.5,10',
  ]);
  assert.deepEqual(
    [flags.metric, flags.head, flags.paramDenominator, flags.saForm, flags.refPoint],
    ['pearson', 'pooler', 'encoder', 'houlsby', [0.5, 10]],
  );
  assert.doesNotMatch(stderr, /set [^;]*(metric|head|paramDenominator|saForm|refPoint)/);
  // STS-B's reference metric is Spearman.
  assert.equal((await optionsOf(['search', '--task', 'stsb', '--preset', 'paper'])).flags.metric, 'spearman');
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-preset-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ preset: 'paper', refPoint: [0.6, 5], head: 'pooler' }));
  const c = await optionsOf(['search', '--task', 'cola', '--config', file]);
  assert.deepEqual([c.flags.refPoint, c.flags.head, c.flags.metric], [[0.6, 5], 'pooler', 'mcc']);
});

test('search --preset paper on use-lite or with --trial-cmd: the settings that cannot hold are left out, said so', async () => {
  const a = await optionsOf(['search', '--task', 'sst2', '--model', 'use-lite', '--preset', 'paper']);
  assert.equal(a.flags.head, undefined);
  assert.equal(a.flags.metric, 'accuracy');
  assert.match(a.stderr, /not for this run: head \(use-lite has no pooler to replace\)/);
  const b = await optionsOf(['search', '--task', 'sst2', '--model', 'x', '--trial-cmd', 'true', '--preset', 'paper']);
  assert.equal(b.flags.head, undefined);
  assert.equal(b.flags.metric, undefined);
  assert.match(b.stderr, /not for this run: metric \(a --trial-cmd command chooses its own\), head/);
});

test('--metric, --head, --param-denominator, --sa-form and --ref-point reject bad values in one line', async () => {
  for (const [args, re] of [
    [['search', '--task', 'mrpc', '--ref-point', '0.7'], /--ref-point must be METRIC,PCT: two numbers/],
    [['search', '--task', 'mrpc', '--ref-point', '0.7,-1'], /--ref-point must be METRIC,PCT/],
    [['search', '--task', 'mrpc', '--head', 'mlp'], /--head must be one of pooler, fresh, got "mlp"/],
    [['retrain', '--study', 's', '--sa-form', 'x'], /--sa-form must be one of houlsby, pfeiffer, got "x"/],
    [
      ['train', '--task', 'mrpc', '--param-denominator', 'all'],
      /--param-denominator must be one of encoder, with-pooler/,
    ],
    [['train', '--task', 'mrpc', '--metric', 'Acc!'], /--metric must be a metric name/],
  ] as const) {
    const r = await runCli([...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('retrain --preset paper: seeds 40-44 and the reference training; --seeds and --lr win', async () => {
  const a = await optionsOf(['retrain', '--study', 's', '--preset', 'paper']);
  assert.deepEqual(hyperOf(a.flags as unknown as HyperFlags), { ...PAPER_HYPER, seed: 40 });
  assert.equal(a.flags.seeds, 5, 'seeds 40, 41, 42, 43, 44');
  // The task is the study's: the per-task metric is resolved when the command has read it.
  assert.deepEqual(
    [a.flags.metric, a.flags.head, a.flags.paramDenominator, a.flags.saForm],
    ['task', 'fresh', 'with-pooler', 'pfeiffer'],
  );
  assert.match(a.stderr, /^preset paper: set [^;]*$/m, 'every setting of retrain is wired');
  const b = await optionsOf(['retrain', '--study', 's', '--preset', 'paper', '--seeds', '2', '--lr', '3e-4']);
  assert.deepEqual(hyperOf(b.flags as unknown as HyperFlags), { ...PAPER_HYPER, lr: 3e-4, seed: 40 });
  assert.equal(b.flags.seeds, 2);
});

test('baselines --preset paper: the reference training; an AUTOPEFT_* variable wins', async () => {
  const a = await optionsOf(['baselines', '--study', 's', '--preset', 'paper']);
  assert.deepEqual(hyperOf(a.flags as unknown as HyperFlags), { ...PAPER_HYPER, seed: 0 });
  assert.equal(a.flags.seeds, 0, 'the seeds list belongs to retrain and transfer');
  process.env.AUTOPEFT_MAX_LENGTH = '64';
  try {
    const b = await optionsOf(['baselines', '--study', 's', '--preset', 'paper']);
    assert.equal(hyperOf(b.flags as unknown as HyperFlags).maxLength, 64);
  } finally {
    delete process.env.AUTOPEFT_MAX_LENGTH;
  }
});

test('transfer --preset paper: seeds and training; a --config key wins over the preset, and the preset may come from the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-preset-'));
  const file = join(dir, 'c.json');
  writeFileSync(file, JSON.stringify({ preset: 'paper', weightDecay: 0.1, epochs: 3 }));
  const { flags } = await optionsOf(['transfer', '--study', 's', '--task', 'rte', '--config', file]);
  assert.deepEqual(hyperOf(flags as unknown as HyperFlags), { ...PAPER_HYPER, weightDecay: 0.1, epochs: 3, seed: 40 });
  assert.equal(flags.seeds, 5);
});

test('--preset: an unknown name is a one-line usage error naming the flag', async () => {
  const r = await runCli(['retrain', '--study', 's', '--preset', 'papr']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--preset must be one of paper, got "papr"/);
});

test('--warmup-ratio and --weight-decay are checked like every flag', async () => {
  const r = await runCli(['search', '--task', 'mrpc', '--warmup-ratio', '1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--warmup-ratio must be a number in \[0, 1\), got "1"/);
  const w = await runCli(['train', '--task', 'mrpc', '--peft', '{}', '--weight-decay', '-1']);
  assert.equal(w.code, 2);
  assert.match(w.stderr, /--weight-decay must be a number >= 0, got "-1"/);
});
