/**
 * A user-caused problem with a search space, a config or a sampler option. The message is one line
 * naming the field and the fix; the CLI prints it without a stack.
 */
export class SearchSpaceError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = 'SearchSpaceError';
  }
}
