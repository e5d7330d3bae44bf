/** The core room: cross-cutting basics every other room may use. */
export { UserError, UsageError, isUserError } from './errors.js';
export { Rng, hashString, mixSeed, seededNormal, seededUniform, type MutableArrayLike } from './random.js';
