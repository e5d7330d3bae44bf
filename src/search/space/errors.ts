import { UserError } from '../../core/errors.js';

/**
 * A user-caused problem with a search space, a config or a sampler option. The message is one line
 * naming the field and the fix; the CLI prints it without a stack.
 */
export class SearchSpaceError extends UserError {}
