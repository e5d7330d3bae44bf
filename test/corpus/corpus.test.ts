/**
 * Runs the bad-input corpus (./cases.ts) through the real CLI process, two at a time: every case
 * must exit 2 with exactly one stderr line `autopeft: <message>` that names the file/flag/key, no
 * stack trace and no control characters, and must leave its folder as it was (except `mayWrite`).
 * Hub cases talk to a loopback server that plays a hostile or broken hub.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBert } from '../../src/models/testing/tiny.js';
import { SETUP_KEY } from '../../src/pipeline/attrs.js';
import { openSqliteStorage } from '../../src/storage/sqlite.js';
import { CASES, type Case } from './cases.js';

const BIN = join(import.meta.dirname, '../../bin/autopeft.mjs');
let root: string;
let tiny: string;
let server: Server;
let hub: string;
let damagedDb: string;

interface Repo {
  files: Map<string, Buffer>;
  commit: string;
  tampered?: Map<string, Buffer>;
}
const repos = new Map<string, Repo>();

function gitBlobSha1(b: Buffer): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(new URL(req.url!, hub).pathname);
  const repo = m ? repos.get(m[1]!) : undefined;
  if (!m || !repo) {
    res.statusCode = 401;
    res.setHeader('x-error-code', 'RepositoryNotFound');
    return void res.end();
  }
  const file = decodeURIComponent(m[3]!);
  const data = repo.files.get(file);
  res.setHeader('x-repo-commit', repo.commit);
  if (!data) {
    res.statusCode = 404;
    res.setHeader('x-error-code', 'EntryNotFound');
    return void res.end();
  }
  const sent = repo.tampered?.get(file) ?? data;
  res.setHeader('etag', `"${gitBlobSha1(data)}"`);
  res.setHeader('content-length', sent.length);
  res.end(req.method === 'HEAD' ? undefined : sent);
}

function filesOf(dir: string, names: readonly string[]): Map<string, Buffer> {
  return new Map(names.map((f) => [f, readFileSync(join(dir, f))]));
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'autopeft-corpus-'));
  tiny = join(root, 'tiny');
  const ck = await writeTinyBert(tiny, { layers: 1, hidden: 16, heads: 2 });
  damagedDb = await writeDamagedDb(join(root, 'damaged.sqlite'));
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  repos.set('org/evil-commit', { files: filesOf(tiny, ck.files), commit: '../../../victim' });
  const sharded = await writeTinyBert(join(root, 'sharded'), { layers: 1, hidden: 16, heads: 2, shards: 2 });
  const sf = filesOf(sharded.dir, sharded.files);
  const idx = JSON.parse(sf.get('model.safetensors.index.json')!.toString()) as { weight_map: Record<string, string> };
  idx.weight_map[Object.keys(idx.weight_map).at(-1)!] = '../../victim/evil.safetensors';
  sf.set('model.safetensors.index.json', Buffer.from(JSON.stringify(idx)));
  repos.set('org/evil-shard', { files: sf, commit: 'c'.repeat(40) });
  const config = readFileSync(join(tiny, 'config.json'));
  const evil = Buffer.from(config);
  evil[evil.length - 2] = 0x20;
  repos.set('org/tampered', {
    files: filesOf(tiny, ck.files),
    commit: 'd'.repeat(40),
    tampered: new Map([['config.json', evil]]),
  });
  repos.set('org/no-weights', {
    files: filesOf(
      tiny,
      ck.files.filter((f) => f !== 'model.safetensors'),
    ),
    commit: 'e'.repeat(40),
  });
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

/**
 * A study database (study "x" with a search setup and 200 trials) whose second half, the trial
 * pages, is overwritten with noise: it opens (the header and schema pages are intact) and fails
 * at the first query of the trials with SQLITE_CORRUPT.
 */
async function writeDamagedDb(path: string): Promise<string> {
  const s = openSqliteStorage(path);
  const setup = { model: 'tiny', task: 'toy.json', numLayers: 1, hidden: 16, backboneParams: 1, sampler: 'random' };
  await s.createStudy({ name: 'x', directions: ['maximize', 'minimize'], systemAttrs: { [SETUP_KEY]: setup } });
  for (let i = 0; i < 200; i++)
    await s.createTrial('x', { state: 'COMPLETE', config: { pad: 'y'.repeat(200), i }, values: [i / 200, 1] });
  await s.close();
  const b = readFileSync(path);
  for (let i = b.length >> 1; i < b.length; i++) b[i] = (i * 131 + 7) & 0xff;
  writeFileSync(path, b);
  return path;
}

/** path -> size, mtime and content hash of every entry under `dir`, except the `skip` prefixes. */
function snapshot(dir: string, skip: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.some((s) => r === s || r.startsWith(`${s}/`))) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) {
        out.set(`${r}/`, 'dir');
        walk(p, r);
      } else {
        const st = statSync(p);
        out.set(r, `${st.size} ${st.mtimeMs} ${createHash('sha1').update(readFileSync(p)).digest('hex')}`);
      }
    }
  };
  walk(dir, '');
  return out;
}

function run(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, HF_ENDPOINT: hub, HF_HUB_CACHE: join(cwd, 'hub-cache'), HF_HUB_OFFLINE: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function runCase(c: Case, i: number): Promise<void> {
  // <case>/work is the CLI's folder; <case>/victim sits beside it, where a hostile name might reach.
  const box = join(root, `case-${String(i).padStart(3, '0')}`);
  const dir = join(box, 'work');
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(box, 'victim'));
  writeFileSync(join(box, 'victim', 'config.json'), '{"mine": true}');
  const args = c.setup({ dir, tiny, hub, damagedDb });
  const skip = [...(c.mayWrite ?? []).map((p) => `work/${p}`), 'work/hub-cache'];
  const before = snapshot(box, skip);
  const r = await run(args, dir, c.env ?? {});
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  const where = `${c.name}: autopeft ${args.join(' ')}\n${r.stderr}`;
  assert.equal(r.code, 2, where);
  assert.equal(lines.length, 1, where);
  const line = lines[0]!;
  // AUTOPEFT_CORPUS_REPORT=file: one `group<TAB>case<TAB>what it printed` line per case (for release notes).
  const report = process.env.AUTOPEFT_CORPUS_REPORT;
  if (report) appendFileSync(report, `${c.group}\t${c.name}\t${line.replace(/\t/g, ' ')}\n`);
  assert.ok(line.startsWith('autopeft: '), where);
  assert.ok(!/internal error|\n\s+at |Error:/.test(r.stderr), where);
  const control = [...line].filter((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  assert.equal(control.length, 0, `control characters in: ${JSON.stringify(line)}`);
  assert.ok(line.length <= 400, `${line.length} characters: ${line.slice(0, 200)}`);
  assert.match(line.slice('autopeft: '.length), c.line, where);
  assert.deepEqual(snapshot(box, skip), before, `${c.name}: files changed`);
}

test('bad-input corpus: at least 60 cases across every input kind', () => {
  assert.ok(CASES.length >= 60, `${CASES.length} cases`);
  const groups = new Set(CASES.map((c) => c.group));
  for (const g of ['data', 'spec', 'checkpoint', 'hub', 'flags', 'peft', 'config', 'storage'])
    assert.ok(groups.has(g as Case['group']), g);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
});

test('bad-input corpus: exit 2, one line naming the input, nothing written', { concurrency: 2 }, async (t) => {
  await Promise.all(CASES.map((c, i) => t.test(c.name, () => runCase(c, i))));
});
