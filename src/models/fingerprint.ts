/** Content hashes of a backbone's frozen weights (`Backbone.fingerprint`): what shared caches key a model by. */
import { createHash } from 'node:crypto';

/**
 * sha256 over `config` (the architecture, as a string) and every tensor (name, shape, bytes) in
 * name order: two checkpoints with the same weights and config get the same hex digest.
 */
export function weightsFingerprint(
  config: string,
  tensors: Iterable<readonly [string, { data: ArrayBufferView; shape: readonly number[] }]>,
): string {
  const h = createHash('sha256').update(config).update('\0');
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(`${name}[${t.shape.join(',')}]\0`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
