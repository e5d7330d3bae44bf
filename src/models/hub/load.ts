import { loadCheckpoint, type Checkpoint } from '../io/checkpoint.js';
import { resolveModel, type ResolveModelOptions } from './resolve.js';

/** `loadCheckpoint(await resolveModel(idOrDir, opts))`: a folder or a hub id to a loaded checkpoint. */
export async function loadPretrained(idOrDir: string, opts: ResolveModelOptions = {}): Promise<Checkpoint> {
  return loadCheckpoint(await resolveModel(idOrDir, opts));
}
