/**
 * USE-lite embedding throughput: the plain-TS reference forward vs the package's tfjs graph on
 * the same SST-2 dev sentences, in the same process. Peer engine: the package's EmbeddingsModel
 * graph on @energetic-ai/core's wasm backend.
 * Usage: npx tsx bench/use-lite.ts [--n 50] [--reps 3]
 *        npx tsx bench/use-lite.ts --check-tokenizer   (ids vs the package's tokenizer on every
 *        text of every GLUE/SuperGLUE file in ../shared/data; prints mismatches per file)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadUseLite } from '../src/models/use-lite/load.js';
import { loadPackageOracle, loadPackageTokenizer } from '../src/models/use-lite/oracle.js';
import { embedIdsReference } from '../src/models/use-lite/reference.js';
import { MISSING_DATA_MESSAGE, SHARED_DATA_DIR, sst2Dev } from '../src/models/use-lite/test-sentences.js';
import { median, numFlag } from './lib/flags.js';

const arg = numFlag;
const n = arg('n', 50);
const reps = arg('reps', 3);
const sentences = sst2Dev();
if (!sentences) {
  console.log(MISSING_DATA_MESSAGE);
  process.exit(0);
}
const model = loadUseLite();

if (process.argv.includes('--check-tokenizer')) {
  const theirs = loadPackageTokenizer();
  const lines = (f: string) =>
    readFileSync(join(SHARED_DATA_DIR, f), 'utf8')
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .filter((l) => l.length > 0);
  const tsv = (f: string, cols: number[], header = true) =>
    lines(f)
      .slice(header ? 1 : 0)
      .flatMap((l) => cols.map((i) => l.split('\t')[i] ?? ''));
  const jsonl = (f: string, keys: string[]) =>
    lines(f).flatMap((l) => keys.map((k) => String((JSON.parse(l) as Record<string, unknown>)[k])));
  const sets: [string, () => string[]][] = [
    ['glue/sst2 train+dev', () => [...tsv('glue/sst2/train.tsv', [0]), ...tsv('glue/sst2/dev.tsv', [0])]],
    ['glue/cola train+dev', () => [...tsv('glue/cola/train.tsv', [3], false), ...tsv('glue/cola/dev.tsv', [3], false)]],
    ['glue/rte train+dev', () => [...tsv('glue/rte/train.tsv', [1, 2]), ...tsv('glue/rte/dev.tsv', [1, 2])]],
    ['glue/mrpc train+dev', () => [...tsv('glue/mrpc/train.tsv', [3, 4]), ...tsv('glue/mrpc/dev.tsv', [3, 4])]],
    ['glue/stsb train+dev', () => [...tsv('glue/stsb/train.tsv', [7, 8]), ...tsv('glue/stsb/dev.tsv', [7, 8])]],
    ['superglue/boolq val', () => jsonl('superglue/boolq/val.jsonl', ['question', 'passage'])],
    [
      'superglue/cb train+val',
      () => [
        ...jsonl('superglue/cb/train.jsonl', ['premise', 'hypothesis']),
        ...jsonl('superglue/cb/val.jsonl', ['premise', 'hypothesis']),
      ],
    ],
    [
      'superglue/rte train+val',
      () => [
        ...jsonl('superglue/rte/train.jsonl', ['premise', 'hypothesis']),
        ...jsonl('superglue/rte/val.jsonl', ['premise', 'hypothesis']),
      ],
    ],
  ];
  let total = 0;
  let bad = 0;
  for (const [name, read] of sets) {
    let texts: string[];
    try {
      texts = read();
    } catch {
      console.log(`${name}: not found under ${SHARED_DATA_DIR}, skipped`);
      continue;
    }
    let b = 0;
    for (const t of texts) {
      const x = model.tokenizer.encodeIds(t);
      const y = theirs.encode(t);
      if (x.length !== y.length || x.some((v, i) => v !== y[i])) {
        if (b++ < 3) console.log(`  differs: ${JSON.stringify(t).slice(0, 160)}`);
      }
    }
    console.log(`${name}: ${texts.length} texts, ${b} mismatches`);
    total += texts.length;
    bad += b;
  }
  console.log(`total: ${total} texts, ${bad} mismatches`);
  process.exit(bad === 0 ? 0 : 1);
}

const batch = sentences.slice(0, n).map((s) => model.tokenizer.encodeIds(s));
const tokens = batch.reduce((s, b) => s + Math.min(b.length, model.config.maxLength), 0);
const oracle = await loadPackageOracle();

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
console.log(
  `  speed ratio reference / tfjs: ${median(ratios).toFixed(2)}x (per-pair ratios ${ratios.map((x) => x.toFixed(2)).join(', ')})`,
);
console.log(`  tokenizer: ${(n / tTok).toFixed(0)} sentences/s`);
oracle.dispose();
