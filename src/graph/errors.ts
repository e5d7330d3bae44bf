/** A graph was built or used wrongly (shape mismatch, wrong dtype, unknown op): the message names the op and the fix. */
export class GraphError extends Error {
  override name = 'GraphError';
}
