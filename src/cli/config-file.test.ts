import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from './config-file.js';
import { rules } from './options.js';
import { runCli } from './testing.js';

const schema = {
  task: rules.string(),
  trials: rules.int(1),
  lr: rules.positive(),
  lora: rules.boolean(),
  trainLimit: rules.size(),
};

test('config files: JSON and YAML, typed values, one-line errors naming file and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-cfg-'));
  try {
    const y = join(dir, 's.yaml');
    writeFileSync(y, 'task: rte\ntrials: 12\nlr: 0.0005\nlora: true\ntrainLimit: 0.25\n');
    assert.deepEqual(readConfigFile(y, schema), {
      task: 'rte',
      trials: 12,
      lr: 0.0005,
      lora: true,
      trainLimit: { fraction: 0.25 },
    });
    const j = join(dir, 's.json');
    writeFileSync(j, JSON.stringify({ trainLimit: 500 }));
    assert.deepEqual(readConfigFile(j, schema), { trainLimit: { count: 500 } });
    writeFileSync(j, JSON.stringify({ trials: 'many' }));
    assert.throws(
      () => readConfigFile(j, schema),
      (e: Error) => e.message === `${j}: "trials" must be an integer >= 1, got "many"`,
    );
    writeFileSync(j, JSON.stringify({ trails: 3 }));
    assert.throws(
      () => readConfigFile(j, schema),
      /unknown option "trails" \(known: task, trials, lr, lora, trainLimit\)/,
    );
    // An inherited property name is not an option.
    writeFileSync(j, JSON.stringify({ toString: 3 }));
    assert.throws(() => readConfigFile(j, schema), /unknown option "toString"/);
    writeFileSync(y, 'task: [unclosed\n');
    assert.throws(() => readConfigFile(y, schema), /s\.yaml: not valid YAML/);
    assert.throws(() => readConfigFile(join(dir, 'none.json'), schema), /--config: .*none\.json does not exist/);
    assert.throws(() => readConfigFile(dir, schema), /--config: .* is not a file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search --config: a bad file is a one-line usage error naming the file and key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-cfg-'));
  try {
    const f = join(dir, 'search.yaml');
    writeFileSync(f, 'task: rte\nsampler: annealing\n');
    const r = await runCli(['search', '--config', f, '--storage', join(dir, 's.sqlite')]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.startsWith(`autopeft: ${f}: "sampler" must be one of `), r.stderr);
    assert.ok(r.stderr.endsWith('got "annealing"\n'), r.stderr);
    writeFileSync(f, 'tsk: rte\n');
    const r2 = await runCli(['search', '--config', f]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /search\.yaml: unknown option "tsk"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// One rule for flags and files: each value a flag rejects is rejected from a YAML or JSON file with
// the same words, before the storage file is created (nothing written).
const SAME_RULE: ReadonlyArray<[key: string, flag: string, value: number | string, what: string]> = [
  ['lr', '--lr', -1, 'a positive number'],
  ['lr', '--lr', 0, 'a positive number'],
  ['batchSize', '--batch-size', 0, 'an integer >= 1'],
  ['maxLength', '--max-length', 0, 'an integer >= 4'],
  ['epochs', '--epochs', 0, 'an integer >= 1'],
  ['maxSteps', '--max-steps', 0, 'an integer >= 1'],
  ['workers', '--workers', -1, 'an integer >= 0'],
  ['nInit', '--n-init', 0, 'an integer >= 1'],
  ['threads', '--threads', 0, 'an integer >= 1'],
  ['patience', '--patience', 0, 'an integer >= 1'],
  ['trials', '--trials', 0, 'an integer >= 1'],
  ['trials', '--trials', 2.5, 'an integer >= 1'],
  ['trainLimit', '--train-limit', 1.5, 'a fraction in (0, 1) or a count >= 1'],
  ['study', '--study', '../../x', 'a name of letters, digits'],
];

test('flags and config files share one validation (defect 4: lr -1, sizes 0 from a file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-cfg-'));
  try {
    const storage = join(dir, 's.sqlite');
    for (const [key, flag, value, what] of SAME_RULE) {
      const viaFlag = await runCli(['search', '--task', 'rte', '--storage', storage, flag, String(value)]);
      assert.equal(viaFlag.code, 2, `${flag} ${value}: ${viaFlag.stderr}`);
      assert.ok(viaFlag.stderr.startsWith(`autopeft: ${flag} must be ${what}`), viaFlag.stderr);
      for (const ext of ['yaml', 'json']) {
        const f = join(dir, `c.${ext}`);
        writeFileSync(
          f,
          ext === 'json' ? JSON.stringify({ task: 'rte', [key]: value }) : `task: rte\n${key}: ${value}\n`,
        );
        const viaFile = await runCli(['search', '--config', f, '--storage', storage]);
        assert.equal(viaFile.code, 2, `${key}: ${value} in ${ext}: ${viaFile.stderr}`);
        assert.ok(viaFile.stderr.startsWith(`autopeft: ${f}: "${key}" must be ${what}`), viaFile.stderr);
        assert.equal(viaFile.stderr.split('\n').length, 2, viaFile.stderr);
      }
      assert.ok(!existsSync(storage), `${key}: the storage file was created`);
    }
    // Numbers are plain decimals: hex, binary and blanks are not integers.
    for (const text of ['0x10', '0b11', '', ' 5', 'Infinity']) {
      const r = await runCli(['search', '--task', 'rte', '--storage', storage, '--trials', text]);
      assert.equal(r.code, 2, text);
      assert.equal(r.stderr, `autopeft: --trials must be an integer >= 1, got "${text}"\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
