/**
 * Where a training step of the bench's BERT spends its time, per ONNX op type and per node, from
 * ORT's profiler (median over steps, so preemption outliers on a shared machine do not dominate),
 * the step's split between the ORT run and the AdamW update, the binding's share of the run (feeds in,
 * gradients out), and CPU time and page faults per step.
 * Usage: npx tsx bench/engine-profile.ts [adapter|full] [--shape tiny|base] [--steps 10] [--top 20] [--cls-only]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFeeds, buildProgram, SHAPES, type ShapeName } from './engine-model.js';

const args = process.argv.slice(2);
const kind = (args.find((a) => a === 'adapter' || a === 'full') ?? 'full') as 'adapter' | 'full';
const num = (name: string, d: number) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : d);
const steps = num('steps', 10);
const top = num('top', 20);
const shape = SHAPES[(args[args.indexOf('--shape') + 1] as ShapeName | undefined) ?? 'tiny'] ?? SHAPES.tiny;
const dir = mkdtempSync(join(tmpdir(), 'autopeft-prof-'));
const prog = await buildProgram(kind, shape, {
  threads: 2,
  profilePrefix: join(dir, 'p'),
  clsOnly: args.includes('--cls-only'),
});
const feeds = benchFeeds(shape);
const split = {
  run: [] as number[],
  update: [] as number[],
  step: [] as number[],
  cpu: [] as number[],
  faults: [] as number[],
};
for (let i = 0; i < steps; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  const f = process.resourceUsage().minorPageFault;
  await prog.step(feeds, 1e-4);
  split.step.push(performance.now() - t);
  const dc = process.cpuUsage(c);
  split.cpu.push((dc.user + dc.system) / 1000);
  split.faults.push(process.resourceUsage().minorPageFault - f);
  split.run.push(prog.lastStepMs.run);
  split.update.push(prog.lastStepMs.update);
}
await (prog.session as unknown as { endProfiling(): Promise<void> | void }).endProfiling();
const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!);
interface Ev {
  cat: string;
  name: string;
  dur: number;
  args: { op_name?: string; input_type_shape?: unknown };
}
const events = JSON.parse(readFileSync(file, 'utf8')) as Ev[];
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const perNode = new Map<string, { op: string; shapes: string; durs: number[] }>();
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const n = perNode.get(e.name) ?? {
    op: e.args.op_name ?? '?',
    shapes: JSON.stringify(e.args.input_type_shape ?? '').replace(/"|\{|\}|float:/g, ''),
    durs: [],
  };
  n.durs.push(e.dur / 1000);
  perNode.set(e.name, n);
}
const med0 = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `${kind}: step median ${med0(split.step).toFixed(1)} ms = ORT run ${med0(split.run).toFixed(1)} ms + JS AdamW update ${med0(split.update).toFixed(1)} ms (${prog.store.size} params)`,
);
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000);
const byOp = new Map<string, [number, number]>();
let sum = 0;
for (const n of perNode.values()) {
  const m = med(n.durs);
  sum += m;
  const c = byOp.get(n.op) ?? [0, 0];
  byOp.set(n.op, [c[0] + m, c[1] + 1]);
}
console.log(
  `${kind}: ${prog.nodeCount} ONNX nodes before ORT fusions, ${perNode.size} after; model_run median ${med(runs).toFixed(1)} ms; sum of per-node medians ${sum.toFixed(1)} ms`,
);
// The run as JS sees it minus ORT's own model_run: feeds in and the outputs (gradients) out of the binding.
console.log(
  `${kind}: binding (ORT run - model_run) ${(med0(split.run) - med(runs)).toFixed(1)} ms; CPU per step (all threads) ${med0(split.cpu).toFixed(1)} ms; minor page faults per step ${med0(split.faults)}`,
);
for (const [op, [ms, n]] of [...byOp].sort((a, b) => b[1][0] - a[1][0]).slice(0, top))
  console.log(`${ms.toFixed(2).padStart(8)} ms  ${String(n).padStart(4)} x ${op}`);
console.log('slowest nodes:');
for (const [name, n] of [...perNode].sort((a, b) => med(b[1].durs) - med(a[1].durs)).slice(0, top))
  console.log(
    `${med(n.durs).toFixed(2).padStart(8)} ms  ${n.op.padEnd(22)} ${name.replace('_kernel_time', '').slice(0, 28).padEnd(28)} ${n.shapes.slice(0, 90)}`,
  );
await prog.release();
