/**
 * The training programs of one run: one program with a symbolic sequence axis for every padded
 * length (the default: one compile per trial), or one per padded length (./programs.ts), all
 * continuing one AdamW run. The program a step uses adopts the state (params, moments, step count) of the one used
 * before it (TrainingProgram.handOver: the ORT tensors are handed over, not copied, and the program
 * that steps keeps updating them in place), and a forward pass runs each length's eval program on
 * the current weights.
 */
import type { Batch } from '../data/batching.js';
import type { Value } from '../graph/ir.js';
import type { EvalProgram } from '../runtime/eval.js';
import type { NamedTensor } from '../runtime/params.js';
import type { ort } from '../runtime/session.js';
import type { TrainingProgram } from '../runtime/training.js';
import { TrainingError } from './errors.js';
import { batchFeeds, type HiddenRows } from './feeds.js';
import { gatherLogits, ProgramsByLength } from './programs.js';

/** One length's compiled training program, with the graph's data inputs and logits. */
export interface LengthProgram {
  train: TrainingProgram;
  inputNames: readonly string[];
  logits: Value;
  /** Forward-only program over the same params, compiled on first evaluation. */
  eval?: EvalProgram;
}

export class SharedTrainingPrograms {
  private readonly byLength: ProgramsByLength<LengthProgram>;
  private current: LengthProgram | undefined;

  /**
   * `compile(seq)` builds the program for padded length `seq`; with `symbolic`, it is called once
   * (with the first length seen) and must build a program that takes every length.
   */
  constructor(
    compile: (seq: number) => Promise<LengthProgram>,
    private readonly symbolic = false,
  ) {
    this.byLength = new ProgramsByLength(compile, async (p) => {
      await p.train.release();
      await p.eval?.release();
    });
  }

  /** The program serving padded length `seq`. */
  private program(seq: number): Promise<LengthProgram> {
    return this.symbolic ? this.byLength.get(0, seq) : this.byLength.get(seq);
  }

  /** Programs compiled so far (one when symbolic). */
  get compiled(): number {
    return this.byLength.lengths().length;
  }

  private get active(): LengthProgram {
    if (!this.current) throw new TrainingError('no training step was taken yet');
    return this.current;
  }

  /** The program for `seq`, holding the run's current state: take a training step with it. */
  async use(seq: number): Promise<LengthProgram> {
    const p = await this.program(seq);
    if (this.current && this.current !== p) this.current.train.handOver(p.train);
    this.current = p;
    return p;
  }

  /** Logits of `n` examples (example order, n x width) under the current weights. */
  async forward(batches: Iterable<Batch>, n: number, width: number, hidden?: HiddenRows): Promise<Float32Array> {
    // The state moves to each length's program and back (handOver: no snapshot, so the next step
    // still updates params and moments in place instead of allocating them afresh).
    const home = this.active;
    let at = home;
    const logits = await gatherLogits(batches, n, width, async (b) => {
      const p = await this.program(b.seq);
      at.train.handOver(p.train);
      at = p;
      p.eval ??= await p.train.evalProgram({ logits: p.logits });
      return (await p.eval.run(batchFeeds(b, p.inputNames, hidden))).logits!.data as Float32Array;
    });
    at.train.handOver(home.train);
    return logits;
  }

  /**
   * The current flat parameter vector: a snapshot (the ORT tensor itself, which later steps leave
   * intact; they write the params into a new buffer once, the moments stay in place).
   */
  params(): ort.Tensor {
    return this.active.train.snapshotParams();
  }

  /** Replaces the current parameters (e.g. with the best epoch's), keeping the optimiser state. */
  setParams(params: ort.Tensor): void {
    this.active.train.setParams(params);
  }

  /** The current parameters by name (copies). */
  readParams(): Map<string, NamedTensor> {
    return this.active.train.readParams();
  }

  release(): Promise<void> {
    return this.byLength.release();
  }
}
