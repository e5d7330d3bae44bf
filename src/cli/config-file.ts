/**
 * One configuration for every command: each option may come from the command line, from an
 * `AUTOPEFT_<NAME>` environment variable (`--batch-size` -> AUTOPEFT_BATCH_SIZE, `--storage` ->
 * AUTOPEFT_STORAGE) or from `--config file.(json|yaml)` (the same options in camelCase: `nInit`,
 * `batchSize`, `trainLimit`; `AUTOPEFT_CONFIG` names a file too). Precedence: flag > environment >
 * file > default. A value from a file or the environment is checked by the same rule as the flag
 * (./options.ts), so a value the flag rejects is rejected there too, in one line naming the file
 * and key, or the variable. Unknown keys in a file are errors.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/errors.js';
import { checkValue, ruleOf, rules, type OptionRule } from './options.js';

/** Short, printable form of a value for a one-line message. */
function shown(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The mapping a config file holds, unchecked; unknown keys (not in `known`) are errors. */
export function readConfigMapping(path: string, known: readonly string[]): Record<string, unknown> {
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
  for (const key of Object.keys(raw))
    if (!known.includes(key))
      throw new UsageError(`${path}: unknown option ${shown(key)} (known: ${known.join(', ')})`);
  return raw as Record<string, unknown>;
}

/** A config file checked key by key against `schema` (the flags' rules). */
export function readConfigFile(path: string, schema: Readonly<Record<string, OptionRule>>): Record<string, unknown> {
  const raw = readConfigMapping(path, Object.keys(schema));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw))
    out[key] = checkValue(
      schema[key]!,
      value,
      (what) => new UsageError(`${path}: "${key}" must be ${what}, got ${shown(value)}`),
    );
  return out;
}

/** `batchSize` -> `AUTOPEFT_BATCH_SIZE`. */
export function envName(key: string): string {
  return `AUTOPEFT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Options that no file or variable sets. */
const NOT_CONFIGURABLE = new Set(['help', 'version', 'config']);

interface Configurable {
  key: string;
  flag: string;
  /** The flag's rule; undefined for an option with a parser of its own (its errors are reworded). */
  rule: OptionRule | undefined;
  parse: ((text: string, previous: unknown) => unknown) | undefined;
}

function configurables(cmd: Command): Configurable[] {
  const out = new Map<string, Configurable>();
  for (const o of cmd.options as readonly Option[]) {
    const key = o.attributeName();
    if (NOT_CONFIGURABLE.has(key) || out.has(key)) continue;
    const takesValue = o.required || o.optional;
    const rule = ruleOf(o.parseArg) ?? (o.parseArg ? undefined : takesValue ? rules.string() : rules.boolean());
    out.set(key, { key, flag: o.long ?? o.flags, rule, parse: o.parseArg });
  }
  return [...out.values()];
}

/** Reruns an option's own parser on a value from elsewhere, naming where it came from. */
function viaParser(c: Configurable, text: string, where: string): unknown {
  try {
    return c.parse!(text, undefined);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${where}: ${e.message}`);
    throw e;
  }
}

function fromEnv(c: Configurable, name: string, text: string): unknown {
  if (c.rule === undefined) return viaParser(c, text, name);
  if (c.rule.schema.safeParse(true).success && !c.rule.schema.safeParse('x').success) {
    // A switch: AUTOPEFT_QUIET=1 / true / 0 / false.
    if (/^(1|true)$/i.test(text)) return true;
    if (/^(0|false)$/i.test(text)) return false;
    throw new UsageError(`${name} must be true or false (1 or 0), got "${text}"`);
  }
  return checkValue(c.rule, c.rule.fromText(text), (what) => new UsageError(`${name} must be ${what}, got "${text}"`));
}

function fromFile(c: Configurable, path: string, value: unknown): unknown {
  if (c.rule !== undefined)
    return checkValue(
      c.rule,
      value,
      (what) => new UsageError(`${path}: "${c.key}" must be ${what}, got ${shown(value)}`),
    );
  if (typeof value !== 'string' && typeof value !== 'number')
    throw new UsageError(`${path}: "${c.key}" must be written as ${c.flag} takes it (a string), got ${shown(value)}`);
  return viaParser(c, String(value), `${path}: "${c.key}"`);
}

/**
 * Fills the options of `cmd` that were not typed on the command line from the environment, then
 * from its --config file, checking each value by the flag's rule; then checks `required`.
 */
export function applyConfig(
  cmd: Command,
  required: readonly Option[] = [],
  env: NodeJS.ProcessEnv = process.env,
): void {
  const list = configurables(cmd);
  const path = (cmd.getOptionValue('config') as string | undefined) ?? (env.AUTOPEFT_CONFIG || undefined);
  const file =
    path === undefined
      ? {}
      : readConfigMapping(
          path,
          list.map((c) => c.key),
        );
  for (const c of list) {
    if (cmd.getOptionValueSource(c.key) === 'cli') continue;
    const name = envName(c.key);
    const text = env[name];
    if (text !== undefined && text !== '') cmd.setOptionValueWithSource(c.key, fromEnv(c, name, text), 'env');
    else if (path !== undefined && Object.hasOwn(file, c.key))
      cmd.setOptionValueWithSource(c.key, fromFile(c, path, file[c.key]), 'config');
  }
  for (const o of required) {
    const key = o.attributeName();
    if (cmd.getOptionValue(key) === undefined)
      throw new UsageError(`${o.long ?? o.flags} is required (or "${key}" in --config, or ${envName(key)})`);
  }
}

/**
 * Gives every command (nested ones too) a --config option and moves commander's own required-option
 * check after the configuration is applied (commander checks before any hook runs, so a required
 * value from a file or the environment would otherwise be refused).
 */
export function configureCommands(program: Command): void {
  const required = new Map<Command, Option[]>();
  const visit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (!sub.options.some((o) => o.attributeName() === 'config'))
        sub.option(
          '--config <file>',
          'JSON or YAML file of these options (camelCase keys); precedence: flag > AUTOPEFT_<NAME> variable > file > default',
        );
      const mandatory = sub.options.filter((o) => o.mandatory);
      for (const o of mandatory) o.mandatory = false;
      required.set(sub, mandatory);
      visit(sub);
    }
  };
  visit(program);
  program.hook('preAction', (_program, action) => applyConfig(action, required.get(action) ?? []));
}
