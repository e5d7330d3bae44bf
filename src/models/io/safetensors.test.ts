import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SafetensorsFile,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
} from './safetensors.js';
import { SafetensorsError } from './errors.js';

/** Build a file by hand: header JSON text + raw data bytes. */
function handBuilt(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function fixtureData(): Uint8Array {
  const data = new Uint8Array(8 + 4 + 2 + 8);
  const dv = new DataView(data.buffer);
  dv.setFloat32(0, 1.5, true); // a[0]
  dv.setFloat32(4, -2.25, true); // a[1]
  dv.setUint16(8, 0x3c00, true); // h = [1, -2] (F16)
  dv.setUint16(10, 0xc000, true);
  dv.setUint16(12, 0x3f80, true); // bf = [1] (BF16)
  dv.setBigInt64(14, -5n, true); // ids = [-5] (I64, unaligned offset 14 on purpose)
  return data;
}
const FIXTURE_HEADER =
  '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
  '"h":{"dtype":"F16","shape":[2,1],"data_offsets":[8,12]},"bf":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},' +
  '"ids":{"dtype":"I64","shape":[1],"data_offsets":[14,22]}}   ';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'st-test-'));
}

test('decodes a hand-built file: F32, F16, BF16, I64 (unaligned), metadata, trailing header spaces', async () => {
  const bytes = handBuilt(FIXTURE_HEADER, fixtureData());
  const { metadata, tensors } = decodeSafetensors(bytes, 'fixture.safetensors');
  assert.deepEqual(metadata, { format: 'pt' });
  assert.deepEqual([...tensors.get('a')!.data], [1.5, -2.25]);
  assert.deepEqual(tensors.get('h')!.shape, [2, 1]);
  assert.deepEqual([...tensors.get('h')!.data], [1, -2]);
  assert.equal(tensors.get('h')!.dtype, 'F16');
  assert.deepEqual([...tensors.get('bf')!.data], [1]);
  assert.deepEqual([...tensors.get('ids')!.data], [-5n]);
  // The same bytes through the lazy file reader.
  const dir = tmp();
  try {
    const p = join(dir, 'fixture.safetensors');
    writeFileSync(p, bytes);
    const f = await SafetensorsFile.open(p);
    try {
      assert.deepEqual(f.names().sort(), ['a', 'bf', 'h', 'ids']);
      assert.deepEqual([...(await f.readFloat('h')).data], [1, -2]);
      assert.deepEqual([...(await f.read('ids')).data], [-5n]);
      await assert.rejects(f.readFloat('ids'), /integer dtype I64/);
      await assert.rejects(f.read('nope'), /no tensor named 'nope'/);
    } finally {
      await f.close();
    }
    const all = await readSafetensors(p, (name) => name !== 'ids');
    assert.deepEqual([...all.tensors.keys()].sort(), ['a', 'bf', 'h']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('round trip: F32/F16/BF16/I32/I64, scalars, empty tensors, metadata; header padded to 8', async () => {
  const f = new Float32Array([0.1, -3.5, 65504, 1e-7, 2 ** -24, -0]);
  const tensors = new Map([
    ['w.f32', { data: f, shape: [2, 3] }],
    ['w.f16', { data: f, shape: [3, 2], dtype: 'F16' as const }],
    ['w.bf16', { data: f, shape: [6], dtype: 'BF16' as const }],
    ['i32', { data: new Int32Array([1, -2, 3]), shape: [3] }],
    ['i64', { data: new BigInt64Array([2n ** 40n, -1n]), shape: [1, 2] }],
    ['scalar', { data: new Float32Array([7]), shape: [] }],
    ['empty', { data: new Float32Array(0), shape: [0, 4] }],
  ]);
  const bytes = encodeSafetensors(tensors, { format: 'pt', note: 'hi' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { format: 'pt', note: 'hi' });
  assert.deepEqual([...back.tensors.get('w.f32')!.data], [...f]);
  assert.deepEqual(back.tensors.get('w.f32')!.shape, [2, 3]);
  // F16: exactly representable values survive; 0.1 and 1e-7 round to their nearest F16.
  const h = back.tensors.get('w.f16')!.data as Float32Array;
  assert.equal(h[0], 0.0999755859375);
  assert.equal(h[2], 65504);
  assert.equal(h[3], 2 ** -24 * 2); // 1e-7 / 2^-24 = 1.68 -> 2 subnormal units
  assert.equal(h[4], 2 ** -24);
  assert.ok(Object.is(h[5], -0));
  const b = back.tensors.get('w.bf16')!.data as Float32Array;
  assert.equal(b[1], -3.5);
  assert.equal(b[2], 65536); // 65504 rounds to 2^16 in bf16 (8 significant bits)
  assert.deepEqual([...back.tensors.get('i32')!.data], [1, -2, 3]);
  assert.deepEqual([...back.tensors.get('i64')!.data], [2n ** 40n, -1n]);
  assert.deepEqual(back.tensors.get('scalar')!.shape, []);
  assert.deepEqual([...back.tensors.get('scalar')!.data], [7]);
  assert.deepEqual(back.tensors.get('empty')!.shape, [0, 4]);
  // Every tensor starts aligned to its element size in the file.
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; data_offsets: [number, number] }
  >;
  const sizes: Record<string, number> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    assert.equal((8 + n + v.data_offsets[0]) % sizes[v.dtype]!, 0, k);
  }
  // File writer + lazy reader give the same.
  const dir = tmp();
  try {
    const p = join(dir, 'rt.safetensors');
    await writeSafetensors(p, tensors, { format: 'pt' });
    const r = await readSafetensors(p);
    assert.deepEqual([...r.tensors.get('w.f16')!.data], [...h]);
    assert.deepEqual([...r.tensors.get('i64')!.data], [2n ** 40n, -1n]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writer rejects shape/data mismatch and wrong dtype for the array type', () => {
  assert.throws(
    () => encodeSafetensors({ x: { data: new Float32Array(3), shape: [2, 2] } }),
    /4 elements but data has 3/,
  );
  assert.throws(
    () => encodeSafetensors({ x: { data: new Int32Array(1), shape: [1], dtype: 'F16' } }),
    /cannot be stored as F16/,
  );
});

function expectError(bytes: Uint8Array, re: RegExp, tensor?: string): void {
  assert.throws(
    () => decodeSafetensors(bytes, 'bad.safetensors'),
    (e: unknown) => {
      assert.ok(e instanceof SafetensorsError, String(e));
      assert.match(e.message, re);
      assert.match(e.message, /bad\.safetensors/);
      assert.ok(!e.message.includes('\n'), 'one-line message');
      if (tensor !== undefined) assert.equal(e.tensor, tensor);
      return true;
    },
  );
}

test('validation errors name the file, the tensor and the problem', () => {
  const good = handBuilt(FIXTURE_HEADER, fixtureData());
  expectError(good.subarray(0, good.length - 3), /truncated: tensor 'ids' needs bytes \[14, 22\)/, 'ids');
  expectError(good.subarray(0, 5), /truncated: 5 bytes/);
  expectError(good.subarray(0, 40), /truncated: header says/);
  expectError(new Uint8Array([...good, 0, 0]), /2 unexpected trailing bytes/);
  const hdr = new Uint8Array(16);
  new DataView(hdr.buffer).setBigUint64(0, 2n ** 40n, true);
  expectError(hdr, /header length .* exceeds/);
  expectError(handBuilt('{"a":', new Uint8Array(0)), /not valid JSON/);
  expectError(handBuilt('[1,2]', new Uint8Array(0)), /must be a JSON object/);
  expectError(
    handBuilt('{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)),
    /unknown dtype "F33"/,
    'a',
  );
  expectError(
    handBuilt('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)),
    /needs 12 bytes but data_offsets span 8/,
    'a',
  );
  expectError(
    handBuilt('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', new Uint8Array(4)),
    /shape must be/,
    'a',
  );
  expectError(
    handBuilt('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', new Uint8Array(4)),
    /data_offsets must be/,
    'a',
  );
  expectError(
    handBuilt(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
      new Uint8Array(12),
    ),
    /tensor 'b' starts at byte 8 .* gap of 4 bytes/,
    'b',
  );
  expectError(
    handBuilt(
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
      new Uint8Array(8),
    ),
    /overlaps 'a'/,
    'b',
  );
  expectError(
    handBuilt('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)),
    /gap of 4 bytes/,
    'a',
  );
  expectError(handBuilt('{"__metadata__":{"k":1}}', new Uint8Array(0)), /__metadata__\.k must be a string/);
  expectError(
    handBuilt('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array(1)),
    /dtype U8, which this reader does not support/,
    'a',
  );
  const badUtf8 = handBuilt('{}', new Uint8Array(0));
  badUtf8[9] = 0xff;
  expectError(badUtf8, /not valid UTF-8/);
});

test('file reader: truncated file and missing file give typed one-line errors', async () => {
  const dir = tmp();
  try {
    const good = handBuilt(FIXTURE_HEADER, fixtureData());
    const p = join(dir, 'cut.safetensors');
    writeFileSync(p, good.subarray(0, good.length - 10));
    await assert.rejects(SafetensorsFile.open(p), (e: unknown) => {
      assert.ok(e instanceof SafetensorsError);
      assert.match(e.message, /cut\.safetensors is truncated: tensor 'bf' needs bytes \[12, 14\)/);
      return true;
    });
    await assert.rejects(
      SafetensorsFile.open(join(dir, 'missing.safetensors')),
      /missing\.safetensors: cannot open .*ENOENT/,
    );
    // An atomic write leaves no temp file behind.
    await writeSafetensors(join(dir, 'ok.safetensors'), { x: { data: new Float32Array([1]), shape: [1] } });
    assert.deepEqual(
      decodeSafetensors(readFileSync(join(dir, 'ok.safetensors'))).tensors.get('x')!.data,
      new Float32Array([1]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
