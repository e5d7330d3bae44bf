/**
 * npm run bench:engine — training-step time of the engine vs PyTorch at the tiny-BERT shape
 * (L2 H128, 2 heads, FFN 512, seq 64, batch 32, vocab 30522, frozen embeddings, dropout 0.1, AdamW):
 * an adapter step (serial adapter, bottleneck 16, after each FFN; adapters + classifier trainable)
 * and a full fine-tuning step (everything but the embeddings trainable). 2 threads each side.
 *
 * The PyTorch peer (bench/engine_torch.py, /usr/bin/python3 with torch) runs in child processes
 * driven step-block by step-block, interleaved with ours, so both see the same machine load. It runs
 * in two OpenMP settings (default spin-wait and OMP_WAIT_POLICY=PASSIVE) and the faster median is
 * the peer (spin-waiting collapses under CPU contention). Medians of >= 30 steps after warm-up.
 * Last line: {"adapterStepMs", "fullStepMs", "torchAdapterStepMs", "torchFullStepMs", "adapterRatio", "fullRatio"}.
 *
 * Usage: npx tsx bench/engine.ts [--rounds 6] [--block 6] [--threads 2] [--no-torch]
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Graph } from '../src/graph/ir.js';
import * as ops from '../src/graph/ops/index.js';
import { compileEval, tensor } from '../src/runtime/index.js';
import { benchFeeds, buildProgram, BENCH } from './engine-model.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const ROUNDS = opt('rounds', 6);
const BLOCK = opt('block', 6);
const THREADS = opt('threads', 2);
const PY = '/usr/bin/python3';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

class TorchPeer {
  private lines: Interface;
  private queue: ((l: string) => void)[] = [];
  info: Record<string, unknown> = {};
  constructor(
    readonly label: string,
    private proc: ChildProcessWithoutNullStreams,
  ) {
    this.lines = createInterface({ input: proc.stdout });
    this.lines.on('line', (l) => this.queue.shift()?.(l));
  }
  static async start(label: string, env: Record<string, string>): Promise<TorchPeer> {
    const script = fileURLToPath(new URL('./engine_torch.py', import.meta.url));
    const proc = spawn(PY, [script, String(THREADS)], { env: { ...process.env, ...env } });
    proc.stderr.on('data', (d) => process.stderr.write(`[torch ${label}] ${d}`));
    const p = new TorchPeer(label, proc);
    p.info = JSON.parse(await p.next()) as Record<string, unknown>;
    return p;
  }
  private next(): Promise<string> {
    return new Promise((res) => this.queue.push(res));
  }
  async steps(kind: string, n: number): Promise<number[]> {
    const r = this.next();
    this.proc.stdin.write(`${kind} ${n}\n`);
    return (JSON.parse(await r) as { ms: number[] }).ms;
  }
  stop(): void {
    this.proc.stdin.write('quit\n');
    this.proc.stdin.end();
  }
}

/** Cost of passing params + m + v (flat, in and out) through one ORT run with no compute to speak of. */
async function ioCost(n: number): Promise<number> {
  const g = new Graph();
  const p = g.input('p', 'float32', [n]);
  const m = g.input('m', 'float32', [n]);
  const v = g.input('v', 'float32', [n]);
  const lr = g.input('lr', 'float32', []);
  const ev = await compileEval(g, { p2: ops.add(p, lr), m2: ops.add(m, lr), v2: ops.add(v, lr) }, { threads: THREADS });
  let feeds = {
    p: tensor('float32', new Float32Array(n), [n]),
    m: tensor('float32', new Float32Array(n), [n]),
    v: tensor('float32', new Float32Array(n), [n]),
    lr: tensor('float32', Float32Array.of(0), []),
  };
  const ts: number[] = [];
  for (let i = 0; i < 40; i++) {
    const t = performance.now();
    const o = await ev.run(feeds);
    feeds = { p: o['p2']!, m: o['m2']!, v: o['v2']!, lr: feeds.lr };
    if (i >= 5) ts.push(performance.now() - t);
  }
  await ev.release();
  return median(ts);
}

async function main() {
  const hasTorch =
    !args.includes('--no-torch') && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  console.log(
    `tiny-BERT ${JSON.stringify(BENCH)}, ${THREADS} threads each, ${ROUNDS} rounds x ${BLOCK} steps per config, interleaved`,
  );
  const feeds = benchFeeds();
  const t0 = performance.now();
  const ours = {
    adapter: await buildProgram('adapter', { threads: THREADS }),
    full: await buildProgram('full', { threads: THREADS }),
  };
  console.log(
    `ours: compiled in ${r1(performance.now() - t0)} ms; ONNX nodes adapter ${ours.adapter.nodeCount}, full ${ours.full.nodeCount}; trainable adapter ${ours.adapter.store.size}, full ${ours.full.store.size}`,
  );
  const peers: TorchPeer[] = [];
  if (hasTorch) {
    peers.push(await TorchPeer.start('default', {}));
    peers.push(await TorchPeer.start('passive', { OMP_WAIT_POLICY: 'PASSIVE' }));
    console.log(`torch: ${JSON.stringify(peers[0]!.info)}`);
  } else console.log('torch: /usr/bin/python3 cannot import torch; ratios are null');
  for (const k of ['adapter', 'full'] as const) for (let i = 0; i < 5; i++) await ours[k].step(feeds, 1e-4);

  const times: Record<string, number[]> = {};
  const add = (key: string, ms: number[]) => (times[key] ??= []).push(...ms);
  for (let r = 0; r < ROUNDS; r++) {
    for (const k of ['adapter', 'full'] as const) {
      const ms: number[] = [];
      for (let i = 0; i < BLOCK; i++) {
        const t = performance.now();
        await ours[k].step(feeds, 1e-4);
        ms.push(performance.now() - t);
      }
      add(`ours/${k}`, ms);
      for (const p of peers) add(`torch-${p.label}/${k}`, await p.steps(k, BLOCK));
    }
    process.stdout.write(
      `round ${r + 1}/${ROUNDS}: ${Object.entries(times)
        .map(([k, v]) => `${k} ${r1(median(v))}`)
        .join(', ')}\n`,
    );
  }
  for (const p of peers) p.stop();
  const io = await ioCost(ours.full.store.size);
  console.log(
    `param/moment I/O through the binding (3 x ${ours.full.store.size} floats in and out, full FT): ${r1(io)} ms per run`,
  );
  await ours.adapter.release();
  await ours.full.release();

  const oursA = median(times['ours/adapter']!);
  const oursF = median(times['ours/full']!);
  const peer = (k: string) =>
    peers.length ? Math.min(...peers.map((p) => median(times[`torch-${p.label}/${k}`]!))) : null;
  const tA = peer('adapter');
  const tF = peer('full');
  for (const [k, v] of Object.entries(times))
    console.log(`${k.padEnd(22)} median ${r1(median(v))} ms (n=${v.length}, min ${r1(Math.min(...v))})`);
  if (peers.length) {
    // Minima are the least load-sensitive view when other processes share the cores.
    const mn = (k: string) => Math.min(...times[k]!);
    const pm = (k: string) => Math.min(...peers.map((p) => mn(`torch-${p.label}/${k}`)));
    console.log(
      `ratios of minima (less sensitive to load): adapter ${(mn('ours/adapter') / pm('adapter')).toFixed(3)}, full ${(mn('ours/full') / pm('full')).toFixed(3)}`,
    );
  }
  console.log(
    JSON.stringify({
      adapterStepMs: r1(oursA),
      fullStepMs: r1(oursF),
      torchAdapterStepMs: tA === null ? null : r1(tA),
      torchFullStepMs: tF === null ? null : r1(tF),
      adapterRatio: tA === null ? null : Math.round((oursA / tA) * 1000) / 1000,
      fullRatio: tF === null ? null : Math.round((oursF / tF) * 1000) / 1000,
    }),
  );
}

await main();
