/** A program was run with missing or wrongly shaped feeds; the message names the input. */
export class FeedError extends Error {
  override name = 'FeedError';
}
