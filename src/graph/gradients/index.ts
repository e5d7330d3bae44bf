/** The gradient rule registry: one rule per differentiable op. */
import * as elementwise from './elementwise.js';
import * as matmul from './matmul.js';
import * as nn from './nn.js';
import * as reduce from './reduce.js';
import * as shape from './shape.js';
import type { GradRule } from './types.js';

export type { GradContext, GradRule } from './types.js';

export const gradRules: ReadonlyMap<string, GradRule> = new Map<string, GradRule>(
  Object.entries({ ...elementwise, ...matmul, ...nn, ...reduce, ...shape }),
);
