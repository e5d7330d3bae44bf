/**
 * A full disk under a running search: a file-size limit (`ulimit -f`, with SIGXFSZ ignored so the
 * write fails with EFBIG as a quota would) and, where this user may mount, a tiny tmpfs (ENOSPC).
 * Either must end the search with one `autopeft:` line naming the database and the fix (exit 2,
 * no stack trace) and leave the file readable: integrity_check ok, nothing stored before lost,
 * and a rerun with room finishes the study (the trial the failed write left RUNNING re-queued).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { countsTowardTarget } from '../../src/trials/index.js';
import {
  BIN,
  checkBookkeeping,
  checkSettled,
  faultFixture,
  readTrials,
  searchArgs,
  start,
  toldTrials,
} from './harness.js';

let f: Awaited<ReturnType<typeof faultFixture>>;
before(async () => {
  f = await faultFixture();
});
after(() => rmSync(f.dir, { recursive: true, force: true }));

const quote = (args: string[]) => args.map((a) => `'${a}'`).join(' ');

/** The one error line of a failed run: exactly one `autopeft:` line, no stack, exit 2. */
function errorLine(code: number, stderr: string): string {
  assert.equal(code, 2, stderr);
  const lines = stderr.split('\n').filter((l) => l.startsWith('autopeft:'));
  assert.equal(lines.length, 1, stderr);
  assert.doesNotMatch(stderr, /internal error|\n\s+at |SqliteError/);
  return lines[0]!;
}

test('file-size limit (ulimit -f) mid-search: one line, database readable, nothing lost, a rerun finishes', async () => {
  const db = join(f.dir, 'limit.sqlite');
  const seed = start(searchArgs(f, db, 'd', 2), f.dir);
  assert.equal(await seed.exit, 0, seed.stderr());
  const stored = await readTrials(db, 'd');
  // 100 KiB: room for a few trials' writes (the WAL grows), then EFBIG.
  const r = start(
    [],
    f.dir,
    `trap '' XFSZ; ulimit -f 100; exec '${process.execPath}' '${BIN}' ${quote(searchArgs(f, db, 'd', 60))}`,
  );
  const line = errorLine(await r.exit, r.stderr());
  assert.match(line, /limit\.sqlite .*ulimit -f/);
  const later = await readTrials(db, 'd');
  checkBookkeeping(later);
  for (const t of stored) assert.deepEqual(later[t.number], t, `trial ${t.number} changed`);
  for (const n of toldTrials(r.stderr()).keys()) assert.equal(later[n]!.state, 'COMPLETE');
  assert.ok(later.length > stored.length, 'the limit was reached after some trials ran');

  const again = start(searchArgs(f, db, 'd', later.filter(countsTowardTarget).length + 1), f.dir);
  assert.equal(await again.exit, 0, again.stderr());
  checkSettled(await readTrials(db, 'd'));
});

test('a full tmpfs mid-search: one "disk is full" line, database readable', async (t) => {
  const mnt = join(f.dir, 'small');
  mkdirSync(mnt);
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=160k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (mount.status !== 0) {
    t.skip(
      `cannot mount a tmpfs here (${(mount.stderr || mount.error?.message || '').trim()}); the ulimit case covers it`,
    );
    return;
  }
  try {
    const db = join(mnt, 'full.sqlite');
    const r = start(searchArgs(f, db, 'd', 60), f.dir);
    const line = errorLine(await r.exit, r.stderr());
    assert.match(line, /full\.sqlite: the disk is full .*free some space and rerun/);
    const trials = await readTrials(db, 'd');
    checkBookkeeping(trials);
    for (const n of toldTrials(r.stderr()).keys()) assert.equal(trials[n]!.state, 'COMPLETE');
  } finally {
    spawnSync('umount', [mnt]);
  }
});
