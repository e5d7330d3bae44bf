/**
 * One program per padded sequence length: batches are length-bucketed, and a graph has static
 * shapes, so training, epoch evaluation, saved-adapter evaluation and the export check each run a
 * batch through the program compiled for its length. `ProgramsByLength` compiles them lazily (once
 * per length actually seen) and releases them together; `gatherLogits` runs batches through them
 * and puts each row back in example order.
 */
import { scatterRows, type Batch } from '../data/batching.js';

export class ProgramsByLength<P> {
  private readonly byLength = new Map<number, P>();

  constructor(
    /** Builds and compiles the program for one padded length. */
    private readonly compile: (seq: number) => Promise<P>,
    /** Frees one program's sessions. */
    private readonly free: (p: P) => Promise<void>,
  ) {}

  /**
   * The program stored under `key` (a padded length), compiled on first use for length `seq`
   * (default `key`; a symbolic-length program is stored under one key whatever the length).
   */
  async get(key: number, seq = key): Promise<P> {
    let p = this.byLength.get(key);
    if (p === undefined) {
      p = await this.compile(seq);
      this.byLength.set(key, p);
    }
    return p;
  }

  /** Padded lengths compiled so far, in first-use order. */
  lengths(): number[] {
    return [...this.byLength.keys()];
  }

  async release(): Promise<void> {
    for (const p of this.byLength.values()) await this.free(p);
    this.byLength.clear();
  }
}

/**
 * Runs every batch (`run` picks the program of the batch's length) and returns the outputs of all
 * `n` examples in example order: n x width (width = outputs per example).
 */
export async function gatherLogits(
  batches: Iterable<Batch>,
  n: number,
  width: number,
  run: (b: Batch) => Promise<Float32Array>,
): Promise<Float32Array> {
  const out = new Float32Array(n * width);
  for (const b of batches) scatterRows(out, width, b.indices, await run(b));
  return out;
}
