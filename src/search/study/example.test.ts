/** The docs example: identical to docs/storage.md's copy, runs, and resumes on a second run. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { paretoFrontIndices, toMinimization } from '../pareto/index.js';
import { paramPct } from '../space/index.js';
import { openSqliteStorage } from '../../storage/sqlite.js';

const script = fileURLToPath(new URL('./example.ts', import.meta.url));
const docs = fileURLToPath(new URL('../../../docs/storage.md', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'autopeft-example-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The code after the leading comment and import lines (the docs import from 'autopeft', the file from src/). */
const body = (src: string): string => {
  const lines = src.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('//') && !l.startsWith('import '));
  return lines.slice(first).join('\n');
};

test('docs/storage.md shows example.ts verbatim, importing from the package', () => {
  const md = readFileSync(docs, 'utf8');
  const block = /## Example[\s\S]*?```ts\n([\s\S]*?)```/.exec(md);
  assert.ok(block, 'no ```ts block under "## Example" in docs/storage.md');
  assert.equal(body(block[1]!), body(readFileSync(script, 'utf8')));
  const imports = block[1]!.split('\n').filter((l) => l.startsWith('import '));
  assert.ok(imports.length > 0 && imports.every((l) => l.endsWith("from 'autopeft';")), imports.join('\n'));
});

test('the example runs, and a second run resumes the study', { timeout: 120_000 }, async () => {
  const db = join(dir, 'demo.db');
  const run = () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, STUDY_DB: db },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      trials: number;
      front: { trial: number; metric: number; paramPct: number }[];
    };
  };
  assert.equal(run().trials, 4);
  const second = run();
  assert.equal(second.trials, 8);
  const storage = openSqliteStorage(db);
  const trials = await storage.listTrials('demo');
  await storage.close();
  assert.deepEqual(
    trials.map((t) => t.state),
    Array(8).fill('COMPLETE'),
  );
  // The hand-enqueued baseline ran first, once.
  assert.deepEqual(trials[0]!.config, {
    layer_0: true,
    layer_1: true,
    layer_2: true,
    layer_3: true,
    sa: 16,
    pa: 0,
    pt: 0,
  });
  // skipIfExists kept the second run from enqueueing it again.
  assert.equal(trials.filter((t) => JSON.stringify(t.config) === JSON.stringify(trials[0]!.config)).length, 1);
  // paramPct was filled in from the config: 4 layers x 2 x 128 x 16 / 4.4M = 0.3723...%.
  const model = { numLayers: 4, hidden: 128, backboneParams: 4_400_000 };
  for (const t of trials) assert.equal(t.values![1], paramPct(t.config, model));
  assert.equal(trials[0]!.values![1], (100 * 4 * 2 * 128 * 16) / 4_400_000);
  // The printed front is the brute-force front of the stored trials.
  const front = paretoFrontIndices(
    toMinimization(
      trials.map((t) => t.values!),
      ['maximize', 'minimize'],
    ),
  ).map((i) => trials[i]!.number);
  assert.deepEqual(
    second.front.map((f) => f.trial),
    front,
  );
});
