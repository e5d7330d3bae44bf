/**
 * The @tensorflow/tfjs (cpu backend) oracle, frozen: what tfjs computed for the package's model.json
 * and shards on two sentences (test/fixtures/oracle/use-lite-tfjs.json, written by
 * scripts/oracle/use-lite-tfjs.ts with tfjs installed ad hoc) agrees with the reference. The live
 * package (wasm) oracle is checked on many more sentences by reference.test.ts and graph.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadUseLite } from './load.js';
import { traceUseLite } from './reference.js';

interface Frozen {
  tfjs: string;
  backend: string;
  useLite: {
    texts: string[];
    ids: number[][];
    embedded: { shape: number[]; data: string };
    embedding: { shape: number[]; data: string };
  };
}

const FIXTURE = join(import.meta.dirname, '../../../test/fixtures/oracle/use-lite-tfjs.json');
const floats = (base64: string) => {
  const b = Buffer.from(base64, 'base64');
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

test('@tensorflow/tfjs cpu on the package graph (frozen) agrees with the reference', () => {
  const frozen = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Frozen;
  assert.equal(frozen.backend, 'cpu');
  const { texts, ids } = frozen.useLite;
  const model = loadUseLite();
  // The frozen run was fed our tokenizer's ids: they must still be what it gives.
  assert.deepEqual(
    texts.map((s) => model.tokenizer.encodeIds(s)),
    ids,
  );
  const emb = { shape: frozen.useLite.embedding.shape, data: floats(frozen.useLite.embedding.data) };
  const embedded = { shape: frozen.useLite.embedded.shape, data: floats(frozen.useLite.embedded.data) };
  assert.deepEqual(emb.shape, [2, 512]);
  ids.forEach((x, b) => {
    const tr = traceUseLite(model, x);
    let dot = 0;
    for (let j = 0; j < 512; j++) dot += tr.embedding[j] * emb.data[b * 512 + j];
    assert.ok(dot >= 0.9999, `text ${b}: cosine ${dot}`); // both unit-norm
    const T = embedded.shape[1];
    for (let p = 0; p < x.length; p++) {
      for (let j = 0; j < 256; j++)
        assert.ok(Math.abs(tr.embedded[p * 256 + j] - embedded.data[(b * T + p) * 256 + j]) < 1e-5);
    }
  });
});
