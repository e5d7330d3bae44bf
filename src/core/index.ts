/** The core room: cross-cutting basics every other room may use. */
export { UserError, UsageError, isUserError } from './errors.js';
