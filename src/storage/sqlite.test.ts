import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { runStorageConformance } from './conformance.js';
import { NotAutopeftDatabaseError, SchemaTooNewError, StorageBusyError, StorageError } from './errors.js';
import { memoryStorage } from './memory.js';
import { MIGRATIONS, migrate, type Migration } from './migrations.js';
import { openSqliteStorage } from './sqlite.js';
import type { Storage, TrialInit, TrialOutcome } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'autopeft-sqlite-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tmpFile = () => join(dir, `s${counter++}.db`);

runStorageConformance('sqlite file', (opts) => openSqliteStorage(tmpFile(), opts));
runStorageConformance('sqlite :memory:', (opts) => openSqliteStorage(':memory:', opts));

describe('sqlite storage file handling', () => {
  test('reopening a file resumes studies, trials and numbering', async () => {
    const file = tmpFile();
    const a = openSqliteStorage(file);
    await a.createStudy({ name: 's', directions: ['maximize', 'minimize'], userAttrs: { task: 'rte' } });
    await a.createTrial('s', { state: 'RUNNING', config: { x: 1 }, workerId: 'w' });
    await a.tellTrial('s', 0, { state: 'COMPLETE', values: [0.7, 2] });
    await a.createTrial('s', { state: 'WAITING', config: { x: 2 } });
    const before = await a.listTrials('s');
    await a.close();
    const b = openSqliteStorage(file);
    assert.deepEqual(await b.listTrials('s'), before);
    assert.deepEqual((await b.getStudy('s')).userAttrs, { task: 'rte' });
    assert.equal((await b.claimWaiting('s', 'w2'))?.number, 1);
    assert.equal((await b.createTrial('s', { state: 'WAITING', config: {} })).number, 2);
    assert.equal(b.schemaVersion, MIGRATIONS.length);
    await b.close();
    const raw = new Database(file, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
  });

  test('study markers seen by another connection move with its writes (heartbeats in version only)', async () => {
    const file = tmpFile();
    const writer = openSqliteStorage(file);
    const reader = openSqliteStorage(file);
    await writer.createStudy({ name: 's', directions: ['maximize', 'minimize'] });
    await writer.createTrial('s', { state: 'RUNNING', config: { x: 1 }, workerId: 'w' });
    const [m0] = await reader.studyMarkers();
    await writer.heartbeat('s', 0);
    const [m1] = await reader.studyMarkers();
    assert.deepEqual([m1!.progress === m0!.progress, m1!.version === m0!.version], [true, false]);
    await writer.tellTrial('s', 0, { state: 'COMPLETE', values: [0.7, 2] });
    const [m2] = await reader.studyMarkers();
    assert.deepEqual([m2!.progress === m1!.progress, m2!.version === m1!.version], [false, false]);
    assert.deepEqual(await reader.studyMarkers(), [m2]);
    await writer.close();
    await reader.close();
  });

  test('refuses files that are not autopeft databases, without touching them', () => {
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(200));
    assert.throws(
      () => openSqliteStorage(text),
      (e: unknown) => e instanceof NotAutopeftDatabaseError && e.message.includes(text),
    );
    assert.equal(readFileSync(text, 'utf8'), 'these are my notes, not a database\n'.repeat(200));

    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)');
    db.close();
    const bytes = readFileSync(other);
    assert.throws(
      () => openSqliteStorage(other),
      (e: unknown) => e instanceof NotAutopeftDatabaseError && /customers/.test(e.message),
    );
    assert.deepEqual(readFileSync(other), bytes);

    const app = join(dir, 'app.db');
    const db2 = new Database(app);
    db2.pragma('application_id = 1234');
    db2.close();
    assert.throws(() => openSqliteStorage(app), NotAutopeftDatabaseError);
  });

  test('an empty SQLite file is initialised', async () => {
    const file = join(dir, 'empty.db');
    new Database(file).close();
    const s = openSqliteStorage(file);
    assert.equal(s.schemaVersion, MIGRATIONS.length);
    await s.close();
  });

  test('refuses a schema newer than this code', async () => {
    const file = tmpFile();
    await openSqliteStorage(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO autopeft_schema (version, description, applied_at) VALUES (?, ?, ?)').run(
      MIGRATIONS.length + 1,
      'future',
      0,
    );
    db.close();
    assert.throws(
      () => openSqliteStorage(file),
      (e: unknown) =>
        e instanceof SchemaTooNewError &&
        e.fileVersion === MIGRATIONS.length + 1 &&
        e.codeVersion === MIGRATIONS.length &&
        e.message.includes(file),
    );
  });

  test('applies pending migrations in order, once, keeping data', async () => {
    const n = MIGRATIONS.length;
    const log: number[] = [];
    const extra: Migration = {
      version: n + 1,
      description: 'test: add a column',
      up(db) {
        log.push(n + 1);
        db.exec(`ALTER TABLE trials ADD COLUMN extra TEXT NOT NULL DEFAULT 'x'`);
      },
    };
    const fill: Migration = {
      version: n + 2,
      description: 'test: fill it from the config',
      up(db) {
        log.push(n + 2);
        db.exec(`UPDATE trials SET extra = json_extract(config, '$.x')`);
      },
    };
    const file = tmpFile();
    const a = openSqliteStorage(file);
    assert.equal(a.schemaVersion, n);
    await a.createStudy({ name: 's', directions: ['minimize'] });
    await a.createTrial('s', { state: 'WAITING', config: { x: 'kept' } });
    await a.close();
    // Given out of order on purpose: the runner sorts them.
    const b = openSqliteStorage(file, { migrations: [fill, ...MIGRATIONS, extra] });
    assert.equal(b.schemaVersion, n + 2);
    assert.deepEqual(log, [n + 1, n + 2]);
    assert.deepEqual((await b.getTrial('s', 0)).config, { x: 'kept' });
    await b.close();
    openSqliteStorage(file, { migrations: [...MIGRATIONS, extra, fill] }).close();
    assert.deepEqual(log, [n + 1, n + 2]);
    const raw = new Database(file, { readonly: true });
    assert.deepEqual(
      raw.prepare('SELECT version FROM autopeft_schema ORDER BY version').pluck().all(),
      Array.from({ length: n + 2 }, (_, i) => i + 1),
    );
    assert.deepEqual(raw.prepare('SELECT extra FROM trials').pluck().all(), ['kept']);
    raw.close();
    assert.throws(() => openSqliteStorage(file, { migrations: [...MIGRATIONS, extra] }), SchemaTooNewError);
    assert.throws(() => openSqliteStorage(tmpFile(), { migrations: [...MIGRATIONS, fill] }), /without gaps/);
  });

  test('v2 moves what autopeft wrote as user attributes to system attributes, and types interrupts', async () => {
    // A v1 file as autopeft search left it after a kill -9, a resume and a Ctrl-C.
    const file = tmpFile();
    const v1 = new Database(file);
    migrate(v1, file, [MIGRATIONS[0]!]);
    const study = (name: string, attrs: object) =>
      v1
        .prepare(
          `INSERT INTO studies (name, directions, objective_names, user_attrs, created_at) VALUES (?, ?, ?, ?, 1)`,
        )
        .run(name, '["maximize","minimize"]', '["metric","paramPct"]', JSON.stringify(attrs)).lastInsertRowid;
    const search = study('search', {
      autopeft: { model: 'use-lite' },
      boState: { theta: [0.5], lastColdN: 4 },
      retrain: [{ trial: 0 }],
      mine: 1,
    });
    const other = study('library', { retrain: 'a user key', boState: 'kept' });
    const trial = (sid: number | bigint, n: number, state: string, reason: string | null, attrs: object) =>
      v1
        .prepare(
          `INSERT INTO trials (study_id, number, state, config, reason, user_attrs, created_at) VALUES (?, ?, ?, '{}', ?, ?, 1)`,
        )
        .run(sid, n, state, reason, JSON.stringify(attrs));
    trial(search, 0, 'FAILED', 'interrupted: its process 123 died', {});
    trial(search, 1, 'FAILED', 'stale: no heartbeat for 70000 ms from worker h:9', { seconds: 2 });
    trial(search, 2, 'FAILED', 'interrupted by the user', {});
    trial(search, 3, 'FAILED', 'interrupted: never started', {});
    trial(search, 4, 'FAILED', 'loss is NaN', {});
    trial(search, 5, 'COMPLETE', null, { requeuedFrom: 0, seconds: 3 });
    trial(search, 6, 'WAITING', null, { requeuedFrom: 1 });
    trial(search, 7, 'WAITING', null, { requeuedFrom: 2 });
    trial(other, 0, 'WAITING', null, { requeuedFrom: 'not a number' });
    v1.close();

    const s = openSqliteStorage(file);
    assert.equal(s.schemaVersion, MIGRATIONS.length);
    const a = await s.getStudy('search');
    assert.deepEqual(a.userAttrs, { mine: 1 });
    assert.deepEqual(a.systemAttrs, {
      autopeft: { model: 'use-lite' },
      retrain: [{ trial: 0 }],
      sampler: { name: 'bo', state: { theta: [0.5], lastColdN: 4 } },
    });
    const b = await s.getStudy('library');
    assert.deepEqual([b.userAttrs, b.systemAttrs], [{ retrain: 'a user key', boState: 'kept' }, {}]);
    assert.deepEqual(
      (await s.listTrials('search')).map((t) => [t.number, t.interrupted, t.requeuedFrom, t.requeuedAs, t.userAttrs]),
      [
        [0, 'worker-died', undefined, 5, {}],
        [1, 'stale', undefined, 6, { seconds: 2 }],
        [2, 'user', undefined, 7, {}],
        [3, 'never-started', undefined, undefined, {}],
        [4, undefined, undefined, undefined, {}],
        [5, undefined, 0, undefined, { seconds: 3 }],
        [6, undefined, 1, undefined, {}],
        [7, undefined, 2, undefined, {}],
      ],
    );
    assert.deepEqual((await s.getTrial('library', 0)).userAttrs, { requeuedFrom: 'not a number' });
    await s.close();
  });

  test('a lock held past the busy timeout is a StorageBusyError, and the call can be retried', async () => {
    const file = tmpFile();
    const s = openSqliteStorage(file, { busyTimeoutMs: 50 });
    await s.createStudy({ name: 's', directions: ['minimize'] });
    await s.createTrial('s', { state: 'WAITING', config: {} });
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE'); // another process holding the write lock
    await assert.rejects(
      s.claimWaiting('s', 'w'),
      (e: unknown) => e instanceof StorageBusyError && /more than 50 ms/.test(e.message),
    );
    await assert.rejects(s.createTrial('s', { state: 'WAITING', config: {} }), StorageBusyError);
    // Reads still work under WAL while the lock is held.
    assert.equal((await s.listTrials('s')).length, 1);
    other.exec('ROLLBACK');
    other.close();
    assert.equal((await s.claimWaiting('s', 'w'))?.number, 0);
    await assert.rejects(s.heartbeat('s', 1), /no trial #1/);
    await s.close();
  });

  test('a failing migration rolls back entirely', async () => {
    const file = tmpFile();
    await openSqliteStorage(file).close();
    const bad: Migration = {
      version: MIGRATIONS.length + 1,
      description: 'test: fails half way',
      up(db) {
        db.exec('CREATE TABLE half (x INTEGER)');
        throw new Error('boom');
      },
    };
    assert.throws(() => openSqliteStorage(file, { migrations: [...MIGRATIONS, bad] }), /boom/);
    const raw = new Database(file, { readonly: true });
    assert.equal(raw.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'`).pluck().get(), 0);
    assert.equal(raw.prepare('SELECT MAX(version) FROM autopeft_schema').pluck().get(), MIGRATIONS.length);
    raw.close();
  });
});

// Differential test: the same random sequence of calls on the memory and SQLite backends must give
// identical snapshots and identical error classes (the memory backend is the simple reference).
test('sqlite and memory backends agree on a random call sequence', async () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let t = 5000;
  const now = () => t;
  const backends: Storage[] = [memoryStorage({ now }), openSqliteStorage(tmpFile(), { now })];
  const okCount = new Map<string, number>();
  let op = '';
  const run = async (f: (s: Storage) => Promise<unknown>) => {
    const out = [];
    for (const s of backends) {
      try {
        out.push({ ok: await f(s) });
      } catch (e) {
        assert.ok(e instanceof StorageError, `unexpected ${String(e)}`);
        out.push({ err: e.constructor.name, msg: e.message.replace(/sqlite:\S+|memory/g, 'LOC') });
      }
    }
    assert.deepEqual(out[1], out[0]);
    if ('ok' in out[0]!) okCount.set(op, (okCount.get(op) ?? 0) + 1);
  };
  await run((s) => s.createStudy({ name: 'a', directions: ['maximize', 'minimize'] }));
  await run((s) => s.createStudy({ name: 'b', directions: ['minimize'] }));
  for (let step = 0; step < 800; step++) {
    t += Math.floor(rand() * 8);
    const study = pick(['a', 'a', 'b', 'zz']);
    const nObj = study === 'a' ? 2 : 1;
    // Mostly recent trials (likely RUNNING), sometimes out of range.
    const count = study === 'zz' ? 0 : (await backends[0]!.listTrials(study)).length;
    let num = rand() < 0.1 ? pick([-1, count, 0.5]) : Math.max(0, count - 1 - Math.floor(rand() * 6));
    op = pick([
      'create',
      'create',
      'claim',
      'tell',
      'tell',
      'attrs',
      'beat',
      'list',
      'get',
      'stale',
      'interrupt',
      'sys',
    ]);
    if (op === 'beat' || op === 'tell' || op === 'interrupt') {
      // Mostly a RUNNING trial (the stale sweeps keep them rare), sometimes any.
      const running = study === 'zz' ? [] : await backends[0]!.listTrials(study, { states: ['RUNNING'] });
      if (running.length > 0 && rand() < 0.7) num = pick(running).number;
    }
    if (op === 'create') {
      const state = pick(['WAITING', 'RUNNING', 'COMPLETE', 'FAILED'] as const);
      const init: TrialInit =
        state === 'WAITING'
          ? { state, config: { i: step } }
          : state === 'RUNNING'
            ? { state, config: { i: step }, workerId: `w${step % 3}` }
            : state === 'COMPLETE'
              ? { state, config: { i: step }, values: Array.from({ length: rand() < 0.9 ? nObj : 3 }, () => rand()) }
              : { state, config: { i: step }, reason: 'r' };
      const maxTrials = rand() < 0.3 ? count - 1 + Math.floor(rand() * 3) : undefined;
      await run((s) => s.createTrial(study, init, maxTrials === undefined ? {} : { maxTrials }));
    } else if (op === 'interrupt') {
      const kind = pick(['user', 'worker-died', 'never-started'] as const);
      const requeue = rand() < 0.6;
      await run((s) => s.interruptTrial(study, num, { kind, requeue }));
    } else if (op === 'sys') {
      await run((s) => s.setStudySystemAttrs(study, { [`s${step % 3}`]: step }));
      await run((s) => s.getStudy(study));
    } else if (op === 'claim') await run((s) => s.claimWaiting(study, `w${step % 3}`));
    else if (op === 'tell') {
      const outcome: TrialOutcome = pick([
        { state: 'COMPLETE', values: Array.from({ length: rand() < 0.9 ? nObj : 1 + nObj }, () => rand() * 10 - 5) },
        { state: 'FAILED', reason: `f${step}` },
        { state: 'PRUNED' },
      ] as const);
      await run((s) => s.tellTrial(study, num, outcome));
    } else if (op === 'attrs') await run((s) => s.setTrialUserAttrs(study, num, { [`k${step % 4}`]: step }));
    else if (op === 'beat') await run((s) => s.heartbeat(study, num));
    else if (op === 'list') {
      const states = [pick(['WAITING', 'RUNNING', 'COMPLETE', 'FAILED', 'PRUNED'] as const)];
      await run((s) => s.listTrials(study, { states }));
    } else if (op === 'get') await run((s) => s.getTrial(study, num));
    else {
      const requeue = rand() < 0.5;
      const deadWorkers = rand() < 0.3 ? ['w1'] : [];
      await run(async (s) => {
        const r = await s.failStale(study, { olderThanMs: 200, requeue, deadWorkers });
        if (r.failed.length === 0) throw new StorageError('NONE', 'nothing stale');
        return r;
      });
    }
  }
  await run((s) => s.listTrials('a'));
  await run((s) => s.listTrials('b'));
  await run((s) => s.listStudies());
  // The sequence must have exercised the success paths, not only the errors.
  for (const op of ['create', 'claim', 'tell', 'attrs', 'beat', 'stale', 'interrupt', 'sys'])
    assert.ok(
      (okCount.get(op) ?? 0) >= 5,
      `${JSON.stringify([...okCount])} only ${okCount.get(op) ?? 0} successful ${op} calls`,
    );
  const all = [...(await backends[0]!.listTrials('a')), ...(await backends[0]!.listTrials('b'))];
  for (const st of ['WAITING', 'COMPLETE', 'FAILED', 'PRUNED'] as const)
    assert.ok(
      all.some((x) => x.state === st),
      `no ${st} trial`,
    );
  assert.ok(
    all.some((x) => x.requeuedFrom !== undefined) && all.some((x) => x.interrupted === 'worker-died'),
    'nothing re-queued',
  );
  for (const s of backends) await s.close();
});
