/**
 * The PostgreSQL backend against a real server (a throwaway cluster, test/postgres/cluster.ts):
 * the shared conformance suite, each test in a fresh schema, then what only this backend has
 * (URLs, migrations on a server, two clients racing, a server restart in the middle).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { PG_SKIP, startCluster, type PgCluster } from '../../test/postgres/cluster.js';
import { runStorageConformance } from './conformance.js';
import { NotAutopeftDatabaseError, SchemaTooNewError, StorageError, TrialLimitError } from './errors.js';
import { MIGRATIONS } from './migrations.js';
import {
  PG_MIGRATIONS,
  isPostgresUrl,
  openPostgresStorage,
  PostgresStorage,
  StorageUnavailableError,
  type PostgresStorageOptions,
} from './postgres.js';
import { openStorage } from './index.js';

let cluster: Promise<PgCluster> | undefined;
const server = () => (cluster ??= startCluster());
after(async () => {
  if (cluster) (await cluster).destroy();
});
let counter = 0;
/** A storage in a schema of its own (a fresh namespace per test: no cleanup between tests). */
async function fresh(options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
  const c = await server();
  return openPostgresStorage(c.url, { schema: `t${process.pid}_${counter++}`, ...options });
}

if (PG_SKIP) {
  test('postgres storage', { skip: PG_SKIP }, () => undefined);
} else {
  runStorageConformance('postgres', (opts) => fresh(opts));

  describe('postgres storage', () => {
    test('URLs: postgres:// and postgresql:// go to this backend, the password never shows, bad ones are one line', async () => {
      assert.ok(isPostgresUrl('postgres://u@h/db') && isPostgresUrl('postgresql://u@h:5/db') && !isPostgresUrl('x.db'));
      const s = openPostgresStorage('postgres://me:secret@127.0.0.1:1/db?schema=exp_1');
      assert.equal(s.location, 'postgres://me:***@127.0.0.1:1/db?schema=exp_1');
      assert.equal(s.schema, 'exp_1');
      // Nothing listens on port 1: the first call fails at once, naming the URL (not the password).
      await assert.rejects(
        s.listStudies(),
        (e: unknown) =>
          e instanceof StorageUnavailableError &&
          /^cannot reach postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/db\?schema=exp_1 \(connect ECONNREFUSED 127\.0\.0\.1:1\); check/.test(
            e.message,
          ) &&
          !e.message.includes('secret'),
      );
      await s.close();
      assert.throws(() => openPostgresStorage('postgres://u@h/db?schema=Bad-Name'), /schema "Bad-Name"/);
      assert.throws(() => openPostgresStorage('postgres://u@[h/db'), /not a valid URL/);
      const c = await server();
      const viaIndex = openStorage(`${c.url}?schema=via_index`);
      assert.ok(viaIndex instanceof PostgresStorage);
      await viaIndex.createStudy({ name: 'x', directions: ['minimize'] });
      assert.equal((await viaIndex.listStudies()).length, 1);
      await viaIndex.close();
      const missing = openPostgresStorage(c.url.replace(/\/postgres$/, '/nope'));
      await assert.rejects(missing.listStudies(), /database "nope" does not exist; create it first/);
      await missing.close();
    });

    test('the schema versions mirror SQLite; a fresh schema is migrated once, even by racing openers', async () => {
      assert.deepEqual(
        PG_MIGRATIONS.map((m) => [m.version, m.description]),
        MIGRATIONS.map((m) => [m.version, m.description]),
      );
      const c = await server();
      const schema = `race_${process.pid}`;
      const openers = Array.from({ length: 4 }, () => openPostgresStorage(c.url, { schema }));
      await Promise.all(openers.map((s) => s.listStudies()));
      assert.deepEqual(
        openers.map((s) => s.schemaVersion),
        [3, 3, 3, 3],
      );
      const raw = new pg.Client({ connectionString: c.url });
      await raw.connect();
      const versions = await raw.query(`SELECT version FROM ${schema}.autopeft_schema ORDER BY version`);
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        [1, 2, 3],
      );
      // A schema ahead of this code is refused, naming the versions.
      await raw.query(`INSERT INTO ${schema}.autopeft_schema VALUES (4, 'future', 0)`);
      const late = openPostgresStorage(c.url, { schema });
      await assert.rejects(
        late.listStudies(),
        (e: unknown) => e instanceof SchemaTooNewError && e.fileVersion === 4 && e.codeVersion === 3,
      );
      // Another application's tables of the same names are never touched.
      await raw.query(`CREATE SCHEMA other_app; CREATE TABLE other_app.trials (x int)`);
      const foreign = openPostgresStorage(c.url, { schema: 'other_app' });
      await assert.rejects(
        foreign.listStudies(),
        (e: unknown) => e instanceof NotAutopeftDatabaseError && /trials/.test(e.message),
      );
      await raw.end();
      for (const s of [...openers, late, foreign]) await s.close();
    });

    test('v2 migrates a v1 schema as SQLite does (system attributes, typed interrupts)', async () => {
      const c = await server();
      const schema = `v1_${process.pid}`;
      const v1 = openPostgresStorage(c.url, { schema, migrations: [PG_MIGRATIONS[0]!] });
      await v1.listStudies();
      await v1.close();
      const raw = new pg.Client({ connectionString: c.url });
      await raw.connect();
      await raw.query(`SET search_path = ${schema}`);
      const sid = (
        await raw.query(
          `INSERT INTO studies (name, directions, objective_names, user_attrs, created_at) VALUES ('s', '["maximize"]', '["m"]', $1, 1) RETURNING id`,
          [JSON.stringify({ autopeft: { model: 'use-lite' }, boState: { theta: [0.5] }, mine: 1 })],
        )
      ).rows[0].id;
      const trial = (n: number, state: string, reason: string | null, attrs: object) =>
        raw.query(
          `INSERT INTO trials (study_id, number, state, config, reason, user_attrs, created_at) VALUES ($1, $2, $3, '{}', $4, $5, 1)`,
          [sid, n, state, reason, JSON.stringify(attrs)],
        );
      await trial(0, 'FAILED', 'stale: no heartbeat for 70000 ms from worker h:9', {});
      await trial(1, 'FAILED', 'loss is NaN', {});
      await trial(2, 'WAITING', null, { requeuedFrom: 0, keep: 'x' });
      await raw.end();
      const s = openPostgresStorage(c.url, { schema });
      const study = await s.getStudy('s');
      assert.deepEqual(
        [study.userAttrs, study.systemAttrs],
        [{ mine: 1 }, { autopeft: { model: 'use-lite' }, sampler: { name: 'bo', state: { theta: [0.5] } } }],
      );
      assert.deepEqual(
        (await s.listTrials('s')).map((t) => [t.number, t.interrupted, t.requeuedFrom, t.requeuedAs, t.userAttrs]),
        [
          [0, 'stale', undefined, 2, {}],
          [1, undefined, undefined, undefined, {}],
          [2, undefined, 0, undefined, { keep: 'x' }],
        ],
      );
      await s.close();
    });

    test('two clients (two pools, as two machines) never overshoot maxTrials nor share a claim', async () => {
      const a = await fresh();
      const b = openPostgresStorage((await server()).url, { schema: a.schema });
      await a.createStudy({ name: 's', directions: ['minimize'] });
      const creates = await Promise.allSettled(
        Array.from({ length: 24 }, (_, k) =>
          (k % 2 ? a : b).createTrial('s', { state: 'WAITING', config: { k } }, { maxTrials: 15 }),
        ),
      );
      assert.equal(creates.filter((r) => r.status === 'fulfilled').length, 15);
      assert.ok(creates.every((r) => r.status === 'fulfilled' || r.reason instanceof TrialLimitError));
      assert.deepEqual(
        (await a.listTrials('s')).map((t) => t.number),
        Array.from({ length: 15 }, (_, i) => i),
      );
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, k) => (k % 2 ? a : b).claimWaiting('s', `w${k}`)),
      );
      const got = claims.flatMap((t) => (t ? [t.number] : []));
      assert.equal(got.length, 15);
      assert.equal(new Set(got).size, 15);
      await a.close();
      await b.close();
    });

    test('withStudyLock: one holder at a time across clients; released when its holder dies', async () => {
      const a = await fresh();
      const b = openPostgresStorage((await server()).url, { schema: a.schema });
      await a.createStudy({ name: 's', directions: ['minimize'] });
      const log: string[] = [];
      const hold = (s: PostgresStorage, who: string) =>
        s.withStudyLock('s', async () => {
          log.push(`${who}+`);
          await new Promise((r) => setTimeout(r, 30));
          log.push(`${who}-`);
        });
      await Promise.all([hold(a, 'a1'), hold(b, 'b1'), hold(a, 'a2'), hold(b, 'b2')]);
      for (let i = 0; i < log.length; i += 2)
        assert.equal(log[i]!.slice(0, -1), log[i + 1]!.slice(0, -1), log.join(' '));
      // The lock is released when the body throws...
      await assert.rejects(
        a.withStudyLock('s', async () => Promise.reject(new Error('boom'))),
        /boom/,
      );
      await b.withStudyLock('s', async () => undefined);
      // ...and when its holder's session ends (a process killed while asking): here a raw session.
      const raw = new pg.Client({ connectionString: (await server()).url });
      await raw.connect();
      const id = (await raw.query(`SELECT id FROM ${a.schema}.studies WHERE name = 's'`)).rows[0].id;
      await raw.query('SELECT pg_advisory_lock($1, $2)', [0x41504654, id]);
      let got = false;
      const waiting = b.withStudyLock('s', async () => {
        got = true;
      });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(got, false, 'the lock was not exclusive');
      await raw.end();
      await waiting;
      assert.equal(got, true);
      await a.close();
      await b.close();
    });

    test('timestamps come from the server clock, not the local one', async () => {
      const s = await fresh();
      await s.createStudy({ name: 's', directions: ['minimize'] });
      const raw = new pg.Client({ connectionString: (await server()).url });
      await raw.connect();
      const serverNow = Number(
        (await raw.query(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`)).rows[0].ms,
      );
      await raw.end();
      const t = await s.createTrial('s', { state: 'RUNNING', config: {}, workerId: 'w' });
      assert.ok(Math.abs(t.createdAt - serverNow) < 5000, `${t.createdAt} vs ${serverNow}`);
      await s.close();
    });

    test('a server restart in the middle: calls retry with backoff and go on; past the window, one line', async () => {
      const c = await server();
      const retries: string[] = [];
      const s = await fresh({ retryForMs: 60_000, onRetry: (r) => retries.push(r.error) });
      await s.createStudy({ name: 's', directions: ['minimize'] });
      await s.createTrial('s', { state: 'WAITING', config: { i: 0 } });
      c.stop();
      const during = s.claimWaiting('s', 'w'); // waits for the server
      await new Promise((r) => setTimeout(r, 400));
      c.start();
      assert.equal((await during)?.number, 0);
      assert.ok(retries.length > 0, 'no retry was reported');
      assert.equal((await s.getTrial('s', 0)).state, 'RUNNING');
      const short = openPostgresStorage(c.url, { schema: s.schema, retryForMs: 300 });
      await short.listStudies();
      c.stop();
      try {
        await assert.rejects(
          short.getStudy('s'),
          (e: unknown) => e instanceof StorageUnavailableError && /after retrying for 0\.\d s/.test(e.message),
        );
      } finally {
        c.start();
      }
      assert.equal((await short.getStudy('s')).name, 's');
      await short.close();
      await s.close();
    });

    test('errors a user can cause are StorageErrors of one line', async () => {
      const s = openPostgresStorage('postgres://autopeft@127.0.0.1:1/postgres', { connectRetryMs: 0 });
      await assert.rejects(s.getStudy('x'), (e: unknown) => e instanceof StorageError && !e.message.includes('\n'));
      await s.close();
    });
  });
}
