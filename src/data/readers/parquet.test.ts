// NOTE: no Parquet file is read here: none can be produced without a writer package
// (hyparquet-writer is the candidate dev dependency). What is tested: error paths and the
// conversion of hyparquet's row objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetRowsToTable, readParquet } from './parquet.js';
import { DataError } from '../errors.js';

test('parquet rows convert to JSON records', () => {
  const t = parquetRowsToTable(
    [
      { text: 'a', label: 1n, when: new Date(Date.UTC(2020, 0, 2)), emb: new Float32Array([0.5, 2]), raw: new Uint8Array([104, 105]), score: 0.25, ok: true, missing: null },
      { text: 'b', label: 0n, extra: [1n, 'x'] },
    ],
    'f.parquet',
  );
  assert.deepEqual(t.columns, ['text', 'label', 'when', 'emb', 'raw', 'score', 'ok', 'missing', 'extra']);
  assert.deepEqual(t.records[0], { text: 'a', label: 1, when: '2020-01-02T00:00:00.000Z', emb: [0.5, 2], raw: 'hi', score: 0.25, ok: true, missing: null });
  assert.deepEqual(t.records[1], { text: 'b', label: 0, extra: [1, 'x'] });
  assert.throws(() => parquetRowsToTable([{ id: 2n ** 60n }], 'big.parquet'), (e: unknown) => e instanceof DataError && e.file === 'big.parquet');
});

test('readParquet: missing file and non-Parquet file are DataErrors naming the file', async () => {
  await assert.rejects(readParquet('/nonexistent/x.parquet'), (e: unknown) => e instanceof DataError && e.file === '/nonexistent/x.parquet' && /not found/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-pq-'));
  try {
    const p = join(dir, 'not.parquet');
    writeFileSync(p, 'text,label\nhello,1\n');
    await assert.rejects(readParquet(p), (e: unknown) => e instanceof DataError && e.file === p && /cannot read as Parquet/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
