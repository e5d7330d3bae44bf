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
  const { flags, stderr } = await optionsOf(['search', '--task', 'mrpc', '--preset', 'paper', '--epochs', '2']);
  assert.deepEqual(hyperOf(flags as unknown as HyperFlags), { ...PAPER_HYPER, epochs: 2, seed: 0 });
  assert.equal(flags.trials, 200);
  assert.equal(flags.nInit, 100);
  assert.equal(flags.batch, 4);
  assert.match(stderr, /^preset paper: set lr, batchSize, maxLength, patience, warmupRatio, weightDecay/m);
  assert.doesNotMatch(stderr, /set [^;]*epochs/, 'epochs was given on the command line');
  assert.match(stderr, /not applied \(no switch yet\): metric, saForm, head, paramDenominator, refPoint/);
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
});

test('retrain --preset paper: seeds 40-44 and the reference training; --seeds and --lr win', async () => {
  const a = await optionsOf(['retrain', '--study', 's', '--preset', 'paper']);
  assert.deepEqual(hyperOf(a.flags as unknown as HyperFlags), { ...PAPER_HYPER, seed: 40 });
  assert.equal(a.flags.seeds, 5, 'seeds 40, 41, 42, 43, 44');
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
