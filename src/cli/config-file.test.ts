import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigFile } from './config-file.js';
import { runCli } from './testing.js';

const schema = { task: 'string', trials: 'int', lr: 'number', lora: 'boolean', trainLimit: 'size' } as const;

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
      (e: Error) => e.message === `${j}: "trials" must be a non-negative integer, got "many"`,
    );
    writeFileSync(j, JSON.stringify({ trails: 3 }));
    assert.throws(
      () => readConfigFile(j, schema),
      /unknown option "trails" \(known: task, trials, lr, lora, trainLimit\)/,
    );
    writeFileSync(y, 'task: [unclosed\n');
    assert.throws(() => readConfigFile(y, schema), /s\.yaml: not valid YAML/);
    assert.throws(() => readConfigFile(join(dir, 'none.json'), schema), /--config: .*none\.json does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('search --config: a bad file is a one-line usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-cfg-'));
  try {
    const f = join(dir, 'search.yaml');
    writeFileSync(f, 'task: rte\nsampler: annealing\n');
    const r = await runCli(['search', '--config', f, '--storage', join(dir, 's.sqlite')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^autopeft: --sampler must be bo, nsga2 or random, got "annealing"\n$/);
    writeFileSync(f, 'tsk: rte\n');
    const r2 = await runCli(['search', '--config', f]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /search\.yaml: unknown option "tsk"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
