/**
 * `--config file.(json|yaml)`: the same options as the flags, in camelCase (e.g. `nInit`,
 * `batchSize`, `trainLimit`), checked by the same rules as the flags (./options.ts), so a value a
 * flag rejects is rejected from a file too. Flags given on the command line win over the file.
 * Unknown keys and bad values are one-line errors naming the file and the key.
 */
import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/errors.js';
import { checkValue, type OptionRule } from './options.js';

/** Short, printable form of a value for a one-line message. */
function shown(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function readConfigFile(path: string, schema: Readonly<Record<string, OptionRule>>): Record<string, unknown> {
  let text: string;
  try {
    if (!statSync(path).isFile()) throw new UsageError(`--config: ${path} is not a file; pass a JSON or YAML file`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `--config: ${path} does not exist` : `--config: cannot read ${path} (${code ?? 'error'})`,
    );
  }
  const yaml = /\.ya?ml$/i.test(path);
  let raw: unknown;
  try {
    raw = yaml ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UsageError(
      `${path}: not valid ${yaml ? 'YAML' : 'JSON'} (${(e as Error).message.split('\n')[0]!.slice(0, 120)})`,
    );
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new UsageError(`${path}: expected a mapping of option names to values`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const rule = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (!rule) throw new UsageError(`${path}: unknown option ${shown(key)} (known: ${Object.keys(schema).join(', ')})`);
    out[key] = checkValue(
      rule,
      value,
      (what) => new UsageError(`${path}: "${key}" must be ${what}, got ${shown(value)}`),
    );
  }
  return out;
}
