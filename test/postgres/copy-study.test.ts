/**
 * `autopeft copy-study` SQLite -> PostgreSQL -> SQLite through the real CLI: every study field and
 * every trial row (states, times, worker ids, interrupt links, intermediate values) survive both ways.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../../src/cli/testing.js';
import { copyStudy } from '../../src/storage/copy.js';
import { memoryStorage } from '../../src/storage/memory.js';
import { openPostgresStorage } from '../../src/storage/postgres.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import type { Storage } from '../../src/storage/types.js';
import { PG_SKIP, startCluster, type PgCluster } from './cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-copy-'));
let cluster: PgCluster | undefined;
after(() => {
  cluster?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** A study with every kind of row: finished, failed, pruned, interrupted + re-run, waiting, running. */
async function fill(s: Storage): Promise<void> {
  await s.createStudy({
    name: 'src',
    directions: ['maximize', 'minimize'],
    objectiveNames: ['metric', 'paramPct'],
    userAttrs: { note: 'mine', deep: { a: [1, 'x', null] } },
    systemAttrs: { autopeft: { model: 'use-lite' }, sampler: { name: 'bo', state: { theta: [0.1 + 0.2] } } },
  });
  await s.createTrial('src', {
    state: 'COMPLETE',
    config: { sa: 3, on: true, act: 'relu' },
    values: [0.1 + 0.2, 1e-300],
    startedAt: 5,
    finishedAt: 9,
  });
  await s.createTrial('src', { state: 'FAILED', config: { sa: 6 }, reason: 'loss is NaN' });
  await s.createTrial('src', { state: 'PRUNED', config: { sa: 12 } });
  await s.createTrial('src', { state: 'RUNNING', config: { sa: 24 }, workerId: 'host:1:ab', userAttrs: { k: 1 } });
  await s.reportIntermediate('src', 3, 100, 0.5);
  await s.interruptTrial('src', 3, { kind: 'stale', requeue: true });
  await s.createTrial('src', { state: 'RUNNING', config: { sa: 48 }, workerId: 'w2' });
  await s.heartbeat('src', 5);
  await s.createTrial('src', { state: 'WAITING', config: { sa: 96 } });
}

async function dump(s: Storage, name: string) {
  return { study: { ...(await s.getStudy(name)), name: 'X' }, trials: await s.listTrials(name) };
}

test('copyStudy is lossless between memory and SQLite, and refuses to overwrite', async () => {
  const a = memoryStorage();
  await fill(a);
  const b = openSqliteStorage(join(dir, 'b.sqlite'));
  assert.equal(await copyStudy(a, b, 'src'), 7);
  assert.deepEqual(await dump(b, 'src'), await dump(a, 'src'));
  await assert.rejects(copyStudy(a, b, 'src'), /already exists/);
  await b.close();
});

test('autopeft copy-study SQLite -> PostgreSQL -> SQLite keeps every field', { skip: PG_SKIP }, async () => {
  cluster = await startCluster();
  const first = join(dir, 'first.sqlite');
  const s = openSqliteStorage(first);
  await fill(s);
  const original = await dump(s, 'src');
  await s.close();
  const url = `${cluster.url}?schema=copies`;
  const up = await runCli(['copy-study', '--study', 'src', '--from', first, '--to', url]);
  assert.equal(up.code, 0, up.stderr);
  assert.match(
    up.stdout,
    /^copied study "src" \(7 trials\) from sqlite:.*first\.sqlite to postgres:\/\/autopeft@127\.0\.0\.1:\d+\/postgres\?schema=copies\n$/,
  );
  const pg = openPostgresStorage(url);
  assert.deepEqual(await dump(pg, 'src'), original);
  // The copy is a live study: a worker could claim its WAITING trial and number on from 7.
  assert.equal((await pg.createTrial('src', { state: 'WAITING', config: {} })).number, 7);
  await pg.close();
  const back = join(dir, 'back.sqlite');
  const down = await runCli(['copy-study', '--study', 'src', '--from', url, '--to', back, '--as', 'again']);
  assert.equal(down.code, 0, down.stderr);
  const b = openSqliteStorage(back);
  const returned = await dump(b, 'again');
  assert.deepEqual(returned.study, original.study);
  assert.deepEqual(returned.trials.slice(0, 7), original.trials);
  await b.close();
  // Errors a user can cause: one line, exit 2.
  const twice = await runCli(['copy-study', '--study', 'src', '--from', first, '--to', url]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /^autopeft: a study named "src" already exists in postgres:.*\n$/);
  const missing = await runCli(['copy-study', '--study', 'src', '--from', join(dir, 'nope.sqlite'), '--to', url]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--from .*nope\.sqlite does not exist/);
});
