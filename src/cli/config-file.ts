/**
 * `--config file.(json|yaml)`: the same options as the flags, in camelCase (e.g. `nInit`,
 * `batchSize`, `trainLimit`). Flags given on the command line win over the file. Unknown keys and
 * wrong types are one-line errors naming the file and the key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';

export type OptionKind = 'string' | 'int' | 'number' | 'boolean' | 'size';

export function readConfigFile(path: string, schema: Readonly<Record<string, OptionKind>>): Record<string, unknown> {
  if (!existsSync(path)) throw new UsageError(`--config: ${path} does not exist`);
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'} (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UsageError(`${path}: expected a mapping of option names to values`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const kind = schema[key];
    if (!kind) throw new UsageError(`${path}: unknown option "${key}" (known: ${Object.keys(schema).join(', ')})`);
    const bad = (want: string) => new UsageError(`${path}: "${key}" must be ${want}, got ${JSON.stringify(value)}`);
    switch (kind) {
      case 'string':
        if (typeof value !== 'string') throw bad('a string');
        break;
      case 'int':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw bad('a non-negative integer');
        break;
      case 'number':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw bad('a number');
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw bad('true or false');
        break;
      case 'size':
        if (typeof value !== 'number' || !(value > 0)) throw bad('a fraction in (0, 1) or a count >= 1');
        out[key] = value < 1 ? { fraction: value } : { count: Math.round(value) };
        continue;
    }
    out[key] = value;
  }
  return out;
}
