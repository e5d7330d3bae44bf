import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { resolveModel, HubError, type DownloadProgress } from './resolve.js';
import { hubCacheDir } from './cache.js';
import { writeTinyBert, writeTinyRoberta, type TinyCheckpoint } from '../testing/tiny.js';
import { loadCheckpoint } from '../io/checkpoint.js';

const COMMIT = 'a'.repeat(40);
const COMMIT2 = 'b'.repeat(40);

interface Repo {
  files: Map<string, Buffer>;
  commit: string;
  /** Files whose GET answers these bytes instead (a server lying about its ETag). */
  tampered?: Map<string, Buffer>;
}

let root: string;
let server: Server;
let base: string;
const repos = new Map<string, Repo>();
const log: Array<{ method: string; path: string; auth: string | undefined }> = [];
/** Contents (by sha256) whose GET is cut off halfway (a dropped connection). */
const cutOff = new Set<string>();

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** git's blob id, the hub's ETag for regular (non-LFS) files. */
function gitBlobSha1(b: Buffer): string {
  return createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url!, base);
  log.push({ method: req.method!, path: url.pathname, auth: req.headers.authorization });
  const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
  if (cdn) {
    // The "CDN": content by hash, with its own etag and no repo headers.
    for (const r of repos.values()) {
      for (const [name, original] of r.files) {
        if (sha256(original) !== cdn[1]) continue;
        const data = r.tampered?.get(name) ?? original;
        res.setHeader('content-length', data.length);
        res.setHeader('etag', `"cdn-${cdn[1]!.slice(0, 8)}"`);
        if (req.method === 'HEAD') return void res.end();
        if (cutOff.has(cdn[1]!)) {
          res.write(data.subarray(0, data.length >> 1));
          setTimeout(() => res.destroy(), 50);
          return;
        }
        return void res.end(data);
      }
    }
    res.statusCode = 404;
    return void res.end();
  }
  const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
  const repo = m ? repos.get(m[1]!) : undefined;
  if (!m || !repo) {
    res.statusCode = 401;
    res.setHeader('x-error-code', 'RepositoryNotFound');
    return void res.end('Repository not found');
  }
  if (decodeURIComponent(m[2]!) !== 'main' && m[2] !== repo.commit) {
    res.statusCode = 404;
    res.setHeader('x-error-code', 'RevisionNotFound');
    return void res.end();
  }
  const data = repo.files.get(decodeURIComponent(m[3]!));
  res.setHeader('x-repo-commit', repo.commit);
  if (!data) {
    res.statusCode = 404;
    res.setHeader('x-error-code', 'EntryNotFound');
    return void res.end('Entry not found');
  }
  if (m[3]!.endsWith('.safetensors')) {
    // LFS files: 302 to the CDN with the linked etag (sha256) and size, as the hub does.
    res.statusCode = 302;
    res.setHeader('location', `${base}/cdn/${sha256(data)}`);
    res.setHeader('x-linked-etag', `"${sha256(data)}"`);
    res.setHeader('x-linked-size', data.length);
    return void res.end();
  }
  res.setHeader('etag', `"${gitBlobSha1(data)}"`);
  const sent = repo.tampered?.get(decodeURIComponent(m[3]!)) ?? data;
  res.setHeader('content-length', sent.length);
  res.end(req.method === 'HEAD' ? undefined : sent);
}

async function addRepo(id: string, ck: TinyCheckpoint, commit = COMMIT): Promise<void> {
  const files = new Map<string, Buffer>();
  for (const f of ck.files) files.set(f, readFileSync(join(ck.dir, f)));
  repos.set(id, { files, commit });
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hub-test-'));
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await addRepo(
    'org/tiny-bert',
    await writeTinyBert(join(root, 'src', 'bert'), {
      layers: 1,
      hidden: 8,
      heads: 2,
      seed: 5,
      tokenizerFiles: 'tokenizer.json',
    }),
  );
  await addRepo(
    'tiny-sharded',
    await writeTinyBert(join(root, 'src', 'sharded'), { layers: 1, hidden: 8, heads: 2, seed: 6, shards: 2 }),
  );
  await addRepo(
    'org/tiny-roberta-slow',
    await writeTinyRoberta(join(root, 'src', 'rob'), {
      layers: 1,
      hidden: 8,
      heads: 2,
      tokenizerFiles: 'vocab.json+merges.txt',
    }),
    COMMIT2,
  );
  const noWeights = await writeTinyBert(join(root, 'src', 'nw'), { layers: 1, hidden: 8, heads: 2 });
  noWeights.files = noWeights.files.filter((f) => f !== 'model.safetensors');
  await addRepo('org/no-weights', noWeights);
  await addRepo('org/cut', await writeTinyBert(join(root, 'src', 'cut'), { layers: 1, hidden: 8, heads: 2, seed: 99 }));
  cutOff.add(sha256(readFileSync(join(root, 'src', 'cut', 'model.safetensors'))));
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(root, { recursive: true, force: true });
});

test('downloads into the huggingface_hub cache layout; token sent; progress; second run reuses blobs; offline uses the cache', async () => {
  const cacheDir = join(root, 'cache1');
  const progress: DownloadProgress[] = [];
  log.length = 0;
  const dir = await resolveModel('org/tiny-bert', {
    env: { HF_ENDPOINT: base, HF_TOKEN: 'hf_test' },
    cacheDir,
    onProgress: (p) => progress.push(p),
  });
  const repo = join(cacheDir, 'models--org--tiny-bert');
  assert.equal(dir, join(repo, 'snapshots', COMMIT));
  assert.equal(readFileSync(join(repo, 'refs', 'main'), 'utf8'), COMMIT);
  // Snapshot entries are relative symlinks into blobs/; LFS blobs are named by sha256.
  const st = readFileSync(join(root, 'src', 'bert', 'model.safetensors'));
  assert.ok(lstatSync(join(dir, 'model.safetensors')).isSymbolicLink());
  assert.equal(readlinkSync(join(dir, 'model.safetensors')), join('..', '..', 'blobs', sha256(st)));
  assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), st);
  assert.ok(!readdirSync(join(repo, 'blobs')).some((f) => f.includes('incomplete')));
  const last = progress.filter((p) => p.file === 'model.safetensors').at(-1)!;
  assert.equal(last.loaded, st.length);
  assert.equal(last.total, st.length);
  assert.ok(log.every((r) => r.auth === 'Bearer hf_test'));
  assert.ok(log.some((r) => r.path === '/org/tiny-bert/resolve/main/config.json'));
  // The folder loads.
  const ck = await loadCheckpoint(dir);
  assert.equal(ck.config.numHiddenLayers, 1);
  assert.ok(ck.tokenizer.encode('hello world').inputIds.length === 4);
  // Online again: only HEAD requests, nothing downloaded.
  log.length = 0;
  assert.equal(await resolveModel('org/tiny-bert', { endpoint: base, cacheDir, env: {} }), dir);
  assert.ok(log.length > 0 && log.every((r) => r.method === 'HEAD'), JSON.stringify(log));
  assert.ok(log.every((r) => r.auth === undefined));
  // Offline, by option and by HF_HUB_OFFLINE: no requests at all.
  log.length = 0;
  assert.equal(await resolveModel('org/tiny-bert', { cacheDir, offline: true, env: {} }), dir);
  assert.equal(await resolveModel('org/tiny-bert', { env: { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cacheDir } }), dir);
  assert.equal(
    await resolveModel('org/tiny-bert', { revision: COMMIT, env: { HF_HUB_OFFLINE: 'true', HF_HUB_CACHE: cacheDir } }),
    dir,
  );
  assert.equal(log.length, 0);
  await assert.rejects(
    resolveModel('org/other', { env: { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cacheDir } }),
    (e: unknown) =>
      e instanceof HubError &&
      /org\/other \(revision main\) is not in the hub cache .* offline mode is on \(HF_HUB_OFFLINE\)/.test(e.message),
  );
  // Hub unreachable: falls back to the cache when the revision is there, else a clear error.
  // A port that was just free: connection refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const dead = `http://127.0.0.1:${deadPort}`;
  assert.equal(await resolveModel('org/tiny-bert', { endpoint: dead, cacheDir, env: {} }), dir);
  await assert.rejects(
    resolveModel('org/tiny-sharded', { endpoint: dead, cacheDir, env: {} }),
    new RegExp(
      `cannot reach ${dead} for org/tiny-sharded/config\\.json \\(ECONNREFUSED\\) and the model is not in the cache`,
    ),
  );
});

test('sharded weights + vocab.txt; vocab.json+merges.txt; HF_HOME/hub; local folders pass through', async () => {
  const home = join(root, 'home');
  const dir = await resolveModel('tiny-sharded', { env: { HF_ENDPOINT: base, HF_HOME: home } });
  assert.ok(dir.startsWith(join(home, 'hub', 'models--tiny-sharded', 'snapshots')));
  assert.deepEqual(readdirSync(dir).sort(), [
    'config.json',
    'model-00001-of-00002.safetensors',
    'model-00002-of-00002.safetensors',
    'model.safetensors.index.json',
    'vocab.txt',
  ]);
  const loaded = await loadCheckpoint(dir);
  assert.equal(loaded.weights.size, 5 + 16 + 2);
  const rob = await resolveModel('org/tiny-roberta-slow', {
    env: { HF_ENDPOINT: base, HF_HUB_CACHE: join(root, 'c2') },
  });
  assert.ok(rob.endsWith(COMMIT2));
  assert.ok(existsSync(join(rob, 'merges.txt')));
  assert.equal((await loadCheckpoint(rob)).config.modelType, 'roberta');
  assert.equal(await resolveModel(join(root, 'src', 'bert')), join(root, 'src', 'bert'));
  await assert.rejects(resolveModel('./no/such/dir'), /no such checkpoint folder/);
  assert.equal(hubCacheDir({ HF_HOME: '/x/hf' }), '/x/hf/hub');
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/y', HF_HOME: '/x' }), '/y');
  assert.match(hubCacheDir({}), /\.cache\/huggingface\/hub$/);
});

test('errors: unknown model, unknown revision, no weights, interrupted download leaves no blob', async () => {
  const env = { HF_ENDPOINT: base, HF_HUB_CACHE: join(root, 'c3') };
  await assert.rejects(
    resolveModel('org/missing', { env }),
    (e: unknown) =>
      e instanceof HubError &&
      e.status === 401 &&
      /org\/missing: no local folder of that name, and no such model on http:\/\/127\.0\.0\.1:\d+ \(HTTP 401\).*HF_TOKEN/.test(
        e.message,
      ),
  );
  await assert.rejects(resolveModel('org/tiny-bert', { env, revision: 'v9' }), /revision v9 not found/);
  await assert.rejects(
    resolveModel('org/no-weights', { env }),
    (e: unknown) =>
      e instanceof HubError &&
      e.modelId === 'org/no-weights' &&
      /no model\.safetensors or model\.safetensors\.index\.json/.test(e.message),
  );
  await assert.rejects(
    resolveModel('org/cut', { env }),
    (e: unknown) =>
      e instanceof HubError && /org\/cut\/model\.safetensors: download interrupted after \d+ bytes/.test(e.message),
  );
  const blobs = join(root, 'c3', 'models--org--cut', 'blobs');
  assert.ok(readdirSync(blobs).every((f) => !f.includes('incomplete')));
  const st = readFileSync(join(root, 'src', 'cut', 'model.safetensors'));
  assert.ok(!existsSync(join(blobs, sha256(st))));
});

/** Every file under `dir` (relative paths, symlinks not followed), for before/after comparisons. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory()) walk(join(d, e.name), r);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** A fresh area: `<area>/cache` is the hub cache, `<area>/victim` a folder outside it with a file in it. */
function area(name: string): { cacheDir: string; victim: string; outside: () => string[] } {
  const dir = join(root, name);
  mkdirSync(join(dir, 'victim'), { recursive: true });
  writeFileSync(join(dir, 'victim', 'config.json'), '{"mine": true}');
  return {
    cacheDir: join(dir, 'cache'),
    victim: join(dir, 'victim'),
    outside: () => tree(dir).filter((f) => !f.startsWith('cache')),
  };
}

test('hostile X-Repo-Commit (a path) is refused before anything is written outside the cache', async () => {
  for (const [i, commit] of ['../../../victim', '../victim', 'A'.repeat(40), `${COMMIT}/x`].entries()) {
    await addRepo(
      `org/evil-commit${i}`,
      await writeTinyBert(join(root, 'src', `ec${i}`), { layers: 1, hidden: 8, heads: 2 }),
      commit,
    );
    const a = area(`evil-commit${i}`);
    const before = a.outside();
    await assert.rejects(
      resolveModel(`org/evil-commit${i}`, { endpoint: base, cacheDir: a.cacheDir, env: {} }),
      (e: unknown) => e instanceof HubError && /sent X-Repo-Commit .* not a 40-character commit hash/.test(e.message),
    );
    assert.deepEqual(a.outside(), before);
    assert.equal(readFileSync(join(a.victim, 'config.json'), 'utf8'), '{"mine": true}');
    // Nothing at all was stored: no ref names the bad commit.
    assert.ok(!existsSync(join(a.cacheDir, `models--org--evil-commit${i}`, 'refs')));
  }
});

test('shard names from the index: every one is checked before the first download', async () => {
  const bad = [
    '../../victim/evil.safetensors',
    'evil.sh',
    '.hidden.safetensors',
    'sub/x.safetensors',
    'a\\b.safetensors',
  ];
  for (const [i, shard] of bad.entries()) {
    const ck = await writeTinyBert(join(root, 'src', `es${i}`), { layers: 1, hidden: 8, heads: 2, shards: 2 });
    const files = new Map<string, Buffer>();
    for (const f of ck.files) files.set(f, readFileSync(join(ck.dir, f)));
    const idx = JSON.parse(files.get('model.safetensors.index.json')!.toString()) as {
      weight_map: Record<string, string>;
    };
    // The first tensor's shard is fine; a later one is hostile (so a checker that stops at the
    // first bad name only after downloading the good ones would still write).
    const names = Object.keys(idx.weight_map);
    idx.weight_map[names.at(-1)!] = shard;
    files.set('model.safetensors.index.json', Buffer.from(JSON.stringify(idx)));
    files.set(shard, Buffer.from('#!/bin/sh\necho pwned\n'));
    repos.set(`org/evil-shard${i}`, { files, commit: COMMIT });
    const a = area(`evil-shard${i}`);
    const before = a.outside();
    log.length = 0;
    await assert.rejects(
      resolveModel(`org/evil-shard${i}`, { endpoint: base, cacheDir: a.cacheDir, env: {} }),
      (e: unknown) =>
        e instanceof HubError && /names shard .* not a plain \*\.safetensors file name .* refusing/.test(e.message),
    );
    assert.deepEqual(a.outside(), before);
    assert.ok(!log.some((r) => r.path.includes('model-0000')), JSON.stringify(log));
  }
});

test('downloaded bytes must match the ETag (sha256 for LFS, git blob sha1 otherwise)', async () => {
  for (const [i, file] of ['model.safetensors', 'config.json'].entries()) {
    // A seed of its own: the loopback CDN serves content by hash, so it must be unique to this repo.
    const ck = await writeTinyBert(join(root, 'src', `t-${file}`), { layers: 1, hidden: 8, heads: 2, seed: 1000 + i });
    const id = `org/tampered-${file.split('.')[0]}`;
    await addRepo(id, ck);
    const original = repos.get(id)!.files.get(file)!;
    const evil = Buffer.from(original);
    evil[evil.length - 2] = evil[evil.length - 2]! ^ 0xff; // same size, different bytes
    repos.get(id)!.tampered = new Map([[file, evil]]);
    const cacheDir = join(root, `tampered-${file}`);
    await assert.rejects(
      resolveModel(id, { endpoint: base, cacheDir, env: {} }),
      (e: unknown) =>
        e instanceof HubError &&
        e.file === file &&
        /do not match the (sha256|git blob sha1) the server sent/.test(e.message),
    );
    const blobs = join(cacheDir, `models--${id.replace('/', '--')}`, 'blobs');
    for (const b of readdirSync(blobs)) assert.notDeepEqual(readFileSync(join(blobs, b)), evil, b);
  }
});

test('offline: a ref that is not a commit hash, or a snapshot symlinked out of the cache, is not trusted', async () => {
  // A cache written by an older, unguarded version: refs/main holds a path to a complete checkpoint elsewhere.
  const a = area('offline-ref');
  await writeTinyBert(join(root, 'offline-ref', 'victim'), { layers: 1, hidden: 8, heads: 2 });
  const repo = join(a.cacheDir, 'models--org--tiny-bert');
  mkdirSync(join(repo, 'refs'), { recursive: true });
  mkdirSync(join(repo, 'snapshots'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), '../../../victim');
  await assert.rejects(
    resolveModel('org/tiny-bert', { cacheDir: a.cacheDir, offline: true, env: {} }),
    /is not in the hub cache .* offline mode is on/,
  );
  // The ref is a real commit, but snapshots/<commit> is a symlink to a folder outside the cache.
  writeFileSync(join(repo, 'refs', 'main'), COMMIT);
  symlinkSync(a.victim, join(repo, 'snapshots', COMMIT));
  await assert.rejects(
    resolveModel('org/tiny-bert', { cacheDir: a.cacheDir, offline: true, env: {} }),
    /is not in the hub cache .* offline mode is on/,
  );
  // Online, the same planted symlink cannot carry downloads out of the cache.
  const before = a.outside();
  await assert.rejects(
    resolveModel('org/tiny-bert', { endpoint: base, cacheDir: a.cacheDir, env: {} }),
    (e: unknown) => e instanceof HubError && /would lie outside the hub cache .* refusing/.test(e.message),
  );
  assert.deepEqual(a.outside(), before);
  // A revision that is a path is refused before any lookup.
  await assert.rejects(
    resolveModel('org/tiny-bert', { endpoint: base, cacheDir: a.cacheDir, env: {}, revision: '../../x' }),
    /--revision "\.\.\/\.\.\/x" is not a branch, tag or 40-character commit hash/,
  );
});
