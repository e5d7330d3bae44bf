import type { Node, Value } from '../ir.js';

export interface GradContext {
  readonly node: Node;
  /** Gradients of the node's outputs (undefined: the loss does not depend on that output). */
  readonly dy: readonly (Value | undefined)[];
  /** needs[i]: whether input i needs a gradient. */
  readonly needs: readonly boolean[];
}

/**
 * A gradient rule returns one gradient per input (undefined where not needed). A returned
 * gradient may have the node output's broadcast shape: autodiff sums it down to the input's shape.
 */
export type GradRule = (ctx: GradContext) => (Value | undefined)[];

/** Integer data of a constant input (axes, starts, pads...). */
export function constInts(v: Value | null | undefined, what: string): number[] {
  const d = v ? v.graph.data.get(v) : undefined;
  if (v?.kind !== 'constant' || !d) throw new Error(`${what}: expected a constant input`);
  return Array.from(d as ArrayLike<number | bigint>, (x) => Number(x));
}
