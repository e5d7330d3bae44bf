// The fixtures were written by a real writer (hyparquet-writer 0.17, not a dependency), see
// fixtures/make-parquet.mjs: train.parquet is Snappy in 4 row groups, dev.parquet uncompressed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetRowsToTable, readParquet } from './parquet.js';
import { DataError } from '../errors.js';
import { loadTask } from '../tasks/load.js';
import { validateTaskSpec } from '../tasks/custom.js';

const FIXTURES = fileURLToPath(new URL('./fixtures', import.meta.url));

/** The generator's rowOf(i), as the reader should return it (int64 -> number). */
function rowOf(i: number): Record<string, unknown> {
  return {
    sentence: `sentence ${i}: "quoted", a\ttab, ümlaut ✓`,
    hypothesis: i % 3 === 0 ? null : `hypothesis ${i}`,
    label: i % 2,
    verdict: i % 2 === 0 ? 'entailment' : 'not_entailment',
    score: i / 4,
    flag: i % 5 === 0,
  };
}

test('real Parquet files (Snappy, 4 row groups; uncompressed) read back exactly', async () => {
  const train = await readParquet(join(FIXTURES, 'train.parquet'));
  assert.deepEqual(train.columns, ['sentence', 'hypothesis', 'label', 'verdict', 'score', 'flag']);
  assert.deepEqual(
    train.records,
    Array.from({ length: 30 }, (_, i) => rowOf(i)),
  );
  const dev = await readParquet(join(FIXTURES, 'dev.parquet'));
  assert.deepEqual(
    dev.records,
    Array.from({ length: 7 }, (_, i) => rowOf(i)),
  );
  const head = await readParquet(join(FIXTURES, 'train.parquet'), { maxRows: 10, columns: ['label'] });
  assert.deepEqual(
    head.records,
    Array.from({ length: 10 }, (_, i) => ({ label: i % 2 })),
  );
  await assert.rejects(
    readParquet(join(FIXTURES, 'dev.parquet'), { columns: ['text'] }),
    (e: unknown) =>
      e instanceof DataError &&
      /no field "text" \(fields: sentence, hypothesis, label, verdict, score, flag\)/.test(e.message),
  );
});

test('a Parquet task loads through a custom spec (string and int64 labels)', async () => {
  const byWord = validateTaskSpec({
    name: 'pq',
    format: 'parquet',
    files: { train: 'train.parquet', dev: 'dev.parquet' },
    textColumns: ['sentence'],
    labelColumn: 'verdict',
    labels: ['entailment', 'not_entailment'],
  });
  const d = await loadTask(byWord, { dataDir: FIXTURES, validation: { count: 6, seed: 0 } });
  assert.equal(d.train.length, 24);
  assert.equal(d.validation!.filter((e) => e.label === 1).length, 3);
  assert.deepEqual(d.dev![1], { text: rowOf(1).sentence, label: 1 });
  const byInt = validateTaskSpec({
    name: 'pq2',
    format: 'parquet',
    files: { dev: 'dev.parquet' },
    textColumns: ['sentence'],
    labelColumn: 'label',
    labels: [0, 1],
  });
  const e = await loadTask(byInt, { dataDir: FIXTURES, splits: ['dev'] });
  assert.deepEqual(
    e.dev!.map((x) => x.label),
    [0, 1, 0, 1, 0, 1, 0],
  );
  const reg = validateTaskSpec({
    name: 'pq3',
    format: 'parquet',
    files: { dev: 'dev.parquet' },
    textColumns: ['sentence'],
    labelColumn: 'score',
    regression: true,
  });
  assert.deepEqual(
    (await loadTask(reg, { dataDir: FIXTURES, splits: ['dev'] })).dev!.map((x) => x.label),
    [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5],
  );
  // a null text is a DataError naming the file and row
  const pair = validateTaskSpec({
    name: 'pq4',
    format: 'parquet',
    files: { dev: 'dev.parquet' },
    textColumns: ['sentence', 'hypothesis'],
    labelColumn: 'label',
    labels: ['0', '1'],
  });
  await assert.rejects(
    loadTask(pair, { dataDir: FIXTURES, splits: ['dev'] }),
    (err: unknown) => err instanceof DataError && err.line === 1 && /field "hypothesis" is null/.test(err.message),
  );
});

test('parquet rows convert to JSON records', () => {
  const t = parquetRowsToTable(
    [
      {
        text: 'a',
        label: 1n,
        when: new Date(Date.UTC(2020, 0, 2)),
        emb: new Float32Array([0.5, 2]),
        raw: new Uint8Array([104, 105]),
        score: 0.25,
        ok: true,
        missing: null,
      },
      { text: 'b', label: 0n, extra: [1n, 'x'] },
    ],
    'f.parquet',
  );
  assert.deepEqual(t.columns, ['text', 'label', 'when', 'emb', 'raw', 'score', 'ok', 'missing', 'extra']);
  assert.deepEqual(t.records[0], {
    text: 'a',
    label: 1,
    when: '2020-01-02T00:00:00.000Z',
    emb: [0.5, 2],
    raw: 'hi',
    score: 0.25,
    ok: true,
    missing: null,
  });
  assert.deepEqual(t.records[1], { text: 'b', label: 0, extra: [1, 'x'] });
  assert.throws(
    () => parquetRowsToTable([{ id: 2n ** 60n }], 'big.parquet'),
    (e: unknown) => e instanceof DataError && e.file === 'big.parquet',
  );
});

test('readParquet: missing file and non-Parquet file are DataErrors naming the file', async () => {
  await assert.rejects(
    readParquet('/nonexistent/x.parquet'),
    (e: unknown) => e instanceof DataError && e.file === '/nonexistent/x.parquet' && /not found/.test(e.message),
  );
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-pq-'));
  try {
    const p = join(dir, 'not.parquet');
    writeFileSync(p, 'text,label\nhello,1\n');
    await assert.rejects(
      readParquet(p),
      (e: unknown) => e instanceof DataError && e.file === p && /cannot read as Parquet/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('built-in tasks load from Hugging Face hub Parquet layouts (shards, HF column names, ClassLabel ints)', async () => {
  // refs/convert/parquet layout: <root>/rte/train/0000.parquet + 0001.parquet, rte/validation/0000.parquet
  const rte = await loadTask('rte', { dataDir: join(FIXTURES, 'hf'), validation: false });
  assert.equal(rte.train.length, 20);
  assert.deepEqual(rte.train[13], { text: 'premise 13', pair: 'hypothesis 13', label: 1 });
  assert.deepEqual(
    rte.dev!.map((x) => x.label),
    [0, 1, 0, 1, 0],
  );
  assert.match(rte.files.train!, /0000\.parquet, .*0001\.parquet$/);
  // maxRows spans shards
  assert.equal(
    (await loadTask('rte', { dataDir: join(FIXTURES, 'hf'), validation: false, maxRows: 15 })).train.length,
    15,
  );
  // hub repo layout: <task dir>/data/train-00000-of-00001.parquet, pointed at directly
  const cola = await loadTask('cola', { dataDir: join(FIXTURES, 'hf', 'cola'), validation: { count: 3 } });
  assert.equal(cola.train.length + cola.validation!.length, 9);
  assert.deepEqual(
    cola.dev,
    [0, 1, 2, 3].map((i) => ({ text: `cola ${i}`, label: i % 3 === 0 ? 0 : 1 })),
  );
  // explicit files
  const ex = await loadTask('rte', {
    files: {
      train: [join(FIXTURES, 'hf/rte/train/0001.parquet')],
      dev: join(FIXTURES, 'hf/rte/validation/0000.parquet'),
    },
    validation: false,
  });
  assert.equal(ex.train.length, 8);
  assert.equal(ex.train[0].text, 'premise 12');
  // nothing there, or another task's shards: clear errors
  await assert.rejects(
    loadTask('superglue-rte', { dataDir: join(FIXTURES, 'hf', 'rte', 'train') }),
    (e: unknown) => e instanceof DataError && /Hugging Face validation\/\*\.parquet/.test(e.message),
  );
  await assert.rejects(
    loadTask('superglue-rte', { dataDir: join(FIXTURES, 'hf', 'cola') }),
    (e: unknown) => e instanceof DataError && /no field "premise" \(fields: sentence, label, idx\)/.test(e.message),
  );
});
