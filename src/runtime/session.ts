/** onnxruntime-node session creation with the engine's defaults (all cores, optimisation level 'all'). */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { DType, TensorData } from '../graph/ir.js';
import type { EmittedModel } from '../graph/onnx/emit.js';

export interface SessionConfig {
  /** Intra-op threads (default: all cores). */
  threads?: number;
  /** ORT graph optimisation level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let idle worker threads spin between ops. Default false. NOTE: spinning saves a little latency on
   * an idle machine but collapses when cores are shared (other trials, other processes): measured on
   * the 2-core dev box under load, the full-FT step's median went from ~110-170 ms to ~220-280 ms.
   */
  spinning?: boolean;
  /** Use com.microsoft contrib kernels (FusedMatMul, Gelu). Default true. */
  contribOps?: boolean;
  /** Write the model with external data here (needed above 2 GB of weights). */
  externalDataDir?: string;
  /** Write an ORT profile (chrome trace JSON) with this file prefix; call session.endProfiling() to flush. */
  profilePrefix?: string;
}

export async function createSession(model: EmittedModel, cfg: SessionConfig): Promise<ort.InferenceSession> {
  const threads = cfg.threads ?? availableParallelism();
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: cfg.optimization ?? 'all',
    extra: { session: { 'intra_op.allow_spinning': cfg.spinning === true ? '1' : '0' } },
  };
  if (cfg.profilePrefix) {
    options.enableProfiling = true;
    options.profileFilePrefix = cfg.profilePrefix;
  }
  if (model.path) return ort.InferenceSession.create(model.path, options);
  return ort.InferenceSession.create(model.bytes!, options);
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
};

/** Wraps typed-array data as an ort.Tensor (no copy). */
export function tensor(dtype: DType, data: TensorData, dims: readonly number[]): ort.Tensor {
  return new ort.Tensor(ORT_TYPE[dtype], data as never, dims);
}

export { ort };
