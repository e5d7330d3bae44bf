import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRows, encodeRows, PrefixStore, streamKey } from './prefix-store.js';

const rowsOf = (counts: number[], width: number, seed: number) =>
  counts.map((c, i) => Float32Array.from({ length: c * width }, (_, j) => Math.sin(seed + 7 * i + j) * 3.3));
const tmp = () => mkdtempSync(join(tmpdir(), 'autopeft-prefix-'));

test('encodeRows/decodeRows: float32 bit for bit, float16 within half precision; foreign bytes are rejected', () => {
  const rows = rowsOf([3, 1, 5], 4, 1);
  const f32 = decodeRows(encodeRows(rows, 4, 'float32'))!;
  assert.equal(f32.width, 4);
  assert.deepEqual(f32.rows, rows);
  const f16 = decodeRows(encodeRows(rows, 4, 'float16'))!;
  for (const [i, r] of rows.entries())
    for (const [j, x] of r.entries()) assert.ok(Math.abs(f16.rows[i]![j]! - x) <= 2e-3 * Math.abs(x) + 1e-7);
  assert.equal(encodeRows(rows, 4, 'float16').byteLength, 16 + 4 * 3 + 2 * 36);
  const bytes = encodeRows(rows, 4, 'float32');
  assert.equal(decodeRows(bytes.subarray(0, bytes.byteLength - 4)), undefined, 'truncated');
  assert.equal(decodeRows(new TextEncoder().encode('not a rows file at all')), undefined, 'foreign');
});

test('streamKey depends on the model, the layer, the ids, their split into examples and the type ids', () => {
  const t = { ids: Int32Array.from([5, 6, 7, 8]), offsets: Int32Array.from([0, 2, 4]) };
  const k = streamKey('m', 2, t);
  assert.equal(streamKey('m', 2, { ids: t.ids.slice(), offsets: t.offsets.slice() }), k, 'content, not identity');
  assert.notEqual(streamKey('m2', 2, t), k);
  assert.notEqual(streamKey('m', 3, t), k);
  assert.notEqual(streamKey('m', 2, { ...t, ids: Int32Array.from([5, 6, 7, 9]) }), k);
  assert.notEqual(streamKey('m', 2, { ...t, offsets: Int32Array.from([0, 1, 4]) }), k);
  assert.notEqual(streamKey('m', 2, { ...t, typeIds: Uint8Array.from([0, 0, 1, 1]) }), k);
});

test('a second store on the same directory (another process) reads the rows bit for bit; memory is an LRU', async () => {
  const dir = tmp();
  try {
    const a = new PrefixStore({ dir, maxMemoryBytes: 200 });
    const r1 = rowsOf([2, 3], 4, 1); // 80 bytes
    const r2 = rowsOf([4, 1], 4, 2); // 80 bytes
    const r3 = rowsOf([1, 1], 4, 3); // 32 bytes
    await a.put('k1', r1, 4);
    await a.put('k2', r2, 4);
    assert.equal(await a.get('k1', 4), r1, 'held in memory (same arrays)');
    await a.put('k3', r3, 4); // 192 bytes: fits
    await a.put('k4', rowsOf([2, 2], 4, 4), 4); // 256 > 200: the least recently used (k2) goes
    assert.equal(a.stats.memoryBytes, 176);
    assert.equal(await a.get('k1', 4), r1);
    const k2 = await a.get('k2', 4);
    assert.notEqual(k2, r2, 'k2 left memory...');
    assert.deepEqual(k2, r2, '...and came back from its file');
    assert.deepEqual(a.stats, { memoryHits: 2, diskHits: 1, misses: 0, memoryBytes: a.stats.memoryBytes });
    const b = new PrefixStore({ dir });
    assert.deepEqual(await b.get('k1', 4), r1);
    assert.equal(await b.get('k1', 8), undefined, 'another width is a miss');
    assert.equal(await b.get('nope', 4), undefined);
    assert.equal(b.stats.misses, 2);
    // A broken file is a miss and is removed.
    writeFileSync(join(dir, 'bad.rows'), 'garbage');
    assert.equal(await b.get('bad', 4), undefined);
    assert.ok(!readdirSync(dir).includes('bad.rows'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the directory stays within maxDiskBytes, evicting the least recently used file; float16 files', async () => {
  const dir = tmp();
  try {
    const s = new PrefixStore({ dir, maxDiskBytes: 400, maxMemoryBytes: 0, dtype: 'float16' });
    const size = encodeRows(rowsOf([10, 10], 4, 0), 4, 'float16').byteLength; // 184 bytes
    await s.put('old', rowsOf([10, 10], 4, 1), 4);
    await new Promise((r) => setTimeout(r, 20));
    await s.put('mid', rowsOf([10, 10], 4, 2), 4);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(await s.get('old', 4), 'reading "old" makes it the most recently used');
    await s.put('new', rowsOf([10, 10], 4, 3), 4);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['new.rows', 'old.rows']);
    assert.ok(files.reduce((t, f) => t + statSync(join(dir, f)).size, 0) <= 400);
    assert.equal(statSync(join(dir, 'new.rows')).size, size);
    assert.throws(() => new PrefixStore({ dtype: 'float8' as 'float16' }), /dtype must be float32 or float16/);
    assert.throws(() => new PrefixStore({ maxDiskBytes: -1 }), /maxDiskBytes must be a number >= 0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
