/**
 * `search --frozen-dropout 0` through the real CLI with two pool workers: the setting is recorded
 * in the study, reaches every trial, and the trials' frozen-prefix rows land in the shared store
 * directory that the worker processes read and write.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import { writeToyTask } from '../helpers/toy-task.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-frozen-dropout-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 3, hidden: 32, heads: 2, std: 0.1 });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const search = (extra: string[], env: Record<string, string> = {}) =>
  spawnSync(
    process.execPath,
    [
      BIN,
      'search',
      '--model',
      join(dir, 'tiny'),
      '--task',
      writeToyTask(dir),
      '--trials',
      '4',
      '--sampler',
      'random',
      '--epochs',
      '1',
      '--max-length',
      '24',
      '--batch-size',
      '8',
      '--storage',
      join(dir, 'studies.sqlite'),
      '--threads',
      '1',
      '--quiet',
      ...extra,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );

test('--frozen-dropout 0: recorded in the study; two workers share the cached rows through the store directory', async () => {
  const store = join(dir, 'store');
  const r = search(['--study', 'fd', '--workers', '2', '--frozen-dropout', '0', '--seed', '3'], {
    AUTOPEFT_PREFIX_CACHE_DIR: store,
  });
  assert.equal(r.status, 0, r.stderr);
  const s = openSqliteStorage(join(dir, 'studies.sqlite'));
  try {
    const study = await s.findStudy('fd');
    assert.equal((study!.systemAttrs.autopeft as { frozenDropout?: number }).frozenDropout, 0);
    assert.equal((await s.listTrials('fd', { states: ['COMPLETE'] })).length, 4);
  } finally {
    await s.close();
  }
  // Random configs of 3 layers start above layer 0 with probability 1/2 each: seed 3 draws some.
  assert.ok(
    readdirSync(store).some((f) => f.endsWith('.rows')),
    `no cached rows in ${store}: ${readdirSync(store).join(', ')}`,
  );
});

test('--frozen-dropout takes only 0: one line, exit 2', () => {
  const r = search(['--study', 'bad', '--frozen-dropout', '0.1']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--frozen-dropout/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
