/** The PEFT method registry: each method folder registers itself on import (see `methods.ts`). */
import type { PeftMethod, PeftMethodId } from './types.js';

const methods = new Map<PeftMethodId, PeftMethod>();

export function registerPeftMethod(m: PeftMethod): void {
  const prev = methods.get(m.id);
  if (prev && prev !== m) throw new Error(`PEFT method '${m.id}' is registered twice`);
  methods.set(m.id, m);
}

export function peftMethod(id: PeftMethodId): PeftMethod {
  const m = methods.get(id);
  if (!m) throw new Error(`PEFT method '${id}' is not registered; import 'src/peft/methods.js'`);
  return m;
}

/** Registered methods, in composition order. */
export function peftMethods(): PeftMethod[] {
  return [...methods.values()].sort((a, b) => a.order - b.order);
}
