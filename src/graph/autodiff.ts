/**
 * Reverse-mode autodiff, graph to graph: appends the backward nodes of d loss / d wrt to the graph.
 *
 * Only nodes on a path from some `wrt` value to the loss are differentiated, so frozen weights pass
 * gradients through but never get their own, and work that cannot reach the loss is skipped.
 * Rules may return gradients in the broadcast shape of a node's output; the sum back to the input's
 * shape happens here, once (`sumToShape`). Fan-out is accumulated with Add.
 */
import { GraphError } from './errors.js';
import { gradRules } from './gradients/index.js';
import { isFloat, type Value } from './ir.js';
import { add } from './ops/elementwise.js';
import { reduceSum } from './ops/reduce.js';
import { reshapeTo } from './ops/shape.js';

/** Sums a broadcast gradient `g` down to `target`'s shape (leading dims and dims where target has 1). */
export function sumToShape(g: Value, target: Value): Value {
  const ts = target.shape;
  if (g.rank === ts.length && g.shape.every((d, i) => d === ts[i])) return g;
  const lead = g.rank - ts.length;
  if (lead < 0) throw new GraphError(`autodiff: gradient ${g} has lower rank than ${target}`);
  const inner: number[] = [];
  ts.forEach((d, i) => {
    const gd = g.shape[lead + i]!;
    if (d === 1 && gd !== 1) inner.push(lead + i);
    else if (d !== gd) throw new GraphError(`autodiff: gradient ${g} does not broadcast to ${target}`);
  });
  const leading = Array.from({ length: lead }, (_, i) => i);
  if (inner.length === 0) return reduceSum(g, leading, false);
  const r = reduceSum(g, [...leading, ...inner], true);
  return lead > 0 ? reshapeTo(r, ts) : r;
}

/**
 * Gradients of scalar `loss` with respect to each of `wrt` (params, or any float values).
 * Values the loss does not depend on are absent from the result.
 */
export function gradients(loss: Value, wrt: readonly Value[]): Map<Value, Value> {
  const g = loss.graph;
  if (!isFloat(loss.dtype) || loss.size !== 1) throw new GraphError(`gradients: loss ${loss} must be a float scalar`);
  for (const w of wrt) {
    if (w.graph !== g) throw new GraphError(`gradients: ${w} belongs to another graph`);
    if (!isFloat(w.dtype)) throw new GraphError(`gradients: ${w} is not float`);
  }
  // Forward: which values depend on some wrt.
  const fromWrt = new Set<Value>(wrt);
  const nodes = g.nodes.slice();
  for (const n of nodes) {
    if (n.inputs.some((v) => v && fromWrt.has(v))) for (const o of n.outputs) if (isFloat(o.dtype)) fromWrt.add(o);
  }
  // Backward: which values the loss depends on.
  const toLoss = new Set<Value>([loss]);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (n.outputs.some((o) => toLoss.has(o))) for (const v of n.inputs) if (v) toLoss.add(v);
  }
  const grads = new Map<Value, Value>();
  grads.set(loss, loss.rank === 0 ? g.scalar(1, loss.dtype) : reshapeTo(g.scalar(1, loss.dtype), loss.shape));
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const dy = n.outputs.map((o) => (toLoss.has(o) ? grads.get(o) : undefined));
    if (dy.every((d) => d === undefined)) continue;
    const needs = n.inputs.map((v) => !!v && fromWrt.has(v) && toLoss.has(v));
    if (!needs.some(Boolean)) continue;
    const rule = gradRules.get(n.op);
    if (!rule)
      throw new GraphError(
        `gradients: no gradient rule for ${n.op} (node producing ${n.outputs[0]}); keep it off the path from params to the loss`,
      );
    // Rules assume a gradient for output 0 (Split handles any output).
    if (dy[0] === undefined && n.op !== 'Split')
      throw new GraphError(`gradients: ${n.op} is differentiated only through its main output`);
    const res = rule({ node: n, dy, needs });
    n.inputs.forEach((v, k) => {
      if (!v || !needs[k]) return;
      const gk = res[k];
      if (!gk) return;
      const s = sumToShape(gk, v);
      const prev = grads.get(v);
      grads.set(v, prev ? add(prev, s) : s);
    });
  }
  const out = new Map<Value, Value>();
  for (const w of wrt) {
    const gw = grads.get(w);
    if (gw) out.set(w, gw);
  }
  return out;
}
