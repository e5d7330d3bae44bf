/**
 * Issue 10, defect 2, through the real CLI: a learning rate far too large must end `train` with
 * exit 2 and one line naming --lr, and must leave every search trial FAILED with that reason (it
 * was stored COMPLETE at 0.65, the best of its study, before).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import { writeToyTask } from '../helpers/toy-task.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
let dir: string;
let spec: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'autopeft-diverged-'));
  await writeTinyBert(join(dir, 'tiny'), { layers: 2, hidden: 32, heads: 2, std: 0.1 });
  spec = writeToyTask(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const common = () => ['--model', join(dir, 'tiny'), '--task', spec, '--max-length', '24', '--batch-size', '8'];

test('train --lr 1e6 exits 2 with one line naming --lr', () => {
  const r = spawnSync(
    process.execPath,
    [BIN, 'train', ...common(), '--peft', '{"sa":8}', '--lr', '1e6', '--max-steps', '2', '--threads', '1', '--quiet'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 2, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  // The error is the last line, alone (progress lines may precede it).
  const lines = r.stderr.trim().split('\n');
  assert.match(lines.at(-1)!, /^(autopeft: )?training diverged: .*\(lr 1000000\); fix: lower --lr/);
  assert.equal(lines.filter((l) => /diverged/.test(l)).length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('search --lr 1e6 stores every diverged trial FAILED with the reason, none COMPLETE', async () => {
  const db = join(dir, 'studies.sqlite');
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      'search',
      ...common(),
      '--trials',
      '2',
      '--n-init',
      '2',
      '--sampler',
      'random',
      '--lr',
      '1e6',
      '--max-steps',
      '2',
      '--storage',
      db,
      '--study',
      'div',
      '--threads',
      '1',
      '--quiet',
    ],
    { encoding: 'utf8' },
  );
  const s = openSqliteStorage(db);
  try {
    const all = await s.listTrials('div');
    assert.ok(all.length >= 2, `${all.length} trials\n${r.stderr}`);
    for (const t of all) {
      assert.equal(t.state, 'FAILED', `trial ${t.number}: ${t.state} ${t.reason ?? ''}\n${r.stderr}`);
      assert.match(t.reason ?? '', /^training diverged: .*lower --lr/);
    }
  } finally {
    await s.close();
  }
});
