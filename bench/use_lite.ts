/**
 * USE-lite embedding throughput: the plain-TS reference forward vs the package's tfjs graph on
 * the same SST-2 dev sentences, in the same process. Peer engine: `--engine package` (default:
 * the package's EmbeddingsModel graph on @energetic-ai/core's wasm backend) or `--engine tfjs-cpu`
 * (@tensorflow/tfjs, cpu backend). Only one engine per process (they share tfjs's global engine).
 * Usage: npx tsx bench/use_lite.ts [--n 50] [--reps 3] [--engine package|tfjs-cpu]
 */
import { loadUseLite } from '../src/models/use_lite/load.js';
import { loadPackageOracle, loadTfjsOracle } from '../src/models/use_lite/oracle.js';
import { embedIdsReference } from '../src/models/use_lite/reference.js';
import { MISSING_DATA_MESSAGE, sst2Dev } from '../src/models/use_lite/test_sentences.js';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const n = arg('n', 50);
const reps = arg('reps', 3);
const sentences = sst2Dev();
if (!sentences) {
  console.log(MISSING_DATA_MESSAGE);
  process.exit(0);
}
const model = loadUseLite();
const batch = sentences.slice(0, n).map((s) => model.tokenizer.encodeIds(s));
const tokens = batch.reduce((s, b) => s + Math.min(b.length, model.config.maxLength), 0);
const ei = process.argv.indexOf('--engine');
const engine = ei >= 0 ? process.argv[ei + 1] : 'package';
const oracle = engine === 'tfjs-cpu' ? await loadTfjsOracle() : await loadPackageOracle();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function once(f: () => unknown): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}
const runRef = () => embedIdsReference(model, batch);
const runTfjs = () => oracle.embedIds(batch);
await once(runRef); // warm-up (JIT, graph compilation)
await once(runTfjs);
// Interleaved pairs, so that the load of this shared machine hits both sides alike.
const ref: number[] = [];
const peer: number[] = [];
const ratios: number[] = [];
for (let r = 0; r < reps; r++) {
  const a = await once(runRef);
  const b = await once(runTfjs);
  ref.push(a);
  peer.push(b);
  ratios.push(b / a);
}
const tTok = await once(() => sentences.slice(0, n).map((s) => model.tokenizer.encodeIds(s)));
console.log(`USE-lite, ${n} SST-2 dev sentences (${tokens} tokens), ${reps} interleaved pairs (medians):`);
console.log(`  reference (plain TS): ${(n / median(ref)).toFixed(1)} sentences/s`);
console.log(`  tfjs graph, ${oracle.backend}: ${(n / median(peer)).toFixed(1)} sentences/s`);
console.log(`  speed ratio reference / tfjs: ${median(ratios).toFixed(2)}x (per-pair ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
console.log(`  tokenizer: ${(n / tTok).toFixed(0)} sentences/s`);
oracle.dispose();
