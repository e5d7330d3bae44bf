/**
 * One validation for command-line flags and `--config` files: each option has a rule (a zod schema
 * plus the words for what it accepts); a flag's text is read as a plain decimal number (no hex,
 * no blanks, no empty string) and then checked by the same schema as a config file's value, so
 * `--batch-size 0` and `batchSize: 0` fail alike. Each failure is a UsageError naming the flag, or
 * the file and key.
 */
import { z } from 'zod';
import { UsageError } from '../core/errors.js';
import { CLASSIFIER_HEADS, type ClassifierHead } from '../models/types.js';
import { SA_FORMS, type SerialAdapterForm } from '../peft/config.js';
import { PARAM_DENOMINATORS, type ParamDenominator } from '../peft/params.js';

export interface OptionRule<T = unknown> {
  /** What the option accepts, for messages: "an integer >= 1". */
  readonly what: string;
  /** The value after parsing (flags) or as read from a config file. */
  readonly schema: z.ZodType<T>;
  /** How a flag's text becomes a value before the schema checks it. */
  readonly fromText: (text: string) => unknown;
  /** The stored form of a checked value (e.g. 0.25 -> { fraction: 0.25 }). */
  finish?(value: T): unknown; // method syntax: a rule of any T is an OptionRule<unknown>
}

/** Plain decimal notation only: "0x10", "0b1", " 5", "" and "Infinity" are not numbers here. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

export function decimal(text: string): number {
  return DECIMAL.test(text) ? Number(text) : Number.NaN;
}

/**
 * Names that end up in file or folder names: no separators, no leading dot (so never `.` or `..`),
 * nothing a shell, a terminal or an HTML page treats specially.
 */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** `s` with every character outside SAFE_NAME's set replaced by `_` (and a leading `_` if needed). */
export function safeName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  return SAFE_NAME.test(t) ? t : `_${t}`.slice(0, 100).replace(/^_/, 'x');
}

export const rules = {
  int: (min = 0): OptionRule<number> => ({
    what: `an integer >= ${min}`,
    schema: z.number().int().min(min).max(Number.MAX_SAFE_INTEGER),
    fromText: decimal,
  }),
  positive: (): OptionRule<number> => ({
    what: 'a positive number',
    schema: z.number().positive().finite(),
    fromText: decimal,
  }),
  size: (): OptionRule<number> => ({
    what: 'a fraction in (0, 1) or a count >= 1',
    schema: z
      .number()
      .positive()
      .finite()
      .refine((n) => n < 1 || Number.isInteger(n)),
    fromText: decimal,
    finish: (n) => (n < 1 ? { fraction: n } : { count: n }),
  }),
  string: (): OptionRule<string> => ({ what: 'a non-empty string', schema: z.string().min(1), fromText: (t) => t }),
  boolean: (): OptionRule<boolean> => ({ what: 'true or false', schema: z.boolean(), fromText: () => true }),
  /** A name that becomes part of a path (a study: `report-<study>/`): see SAFE_NAME. */
  name: (): OptionRule<string> => ({
    what: 'a name of letters, digits, ".", "_" and "-" (at most 100, starting with a letter or digit)',
    schema: z.string().regex(SAFE_NAME),
    fromText: (t) => t,
  }),
  oneOf: <T extends string>(names: readonly T[]): OptionRule<T> => ({
    what: `one of ${names.join(', ')}`,
    schema: z.enum(names as [T, ...T[]]),
    fromText: (t) => t,
  }),
} as const;

/** Checks `value` against `rule`; the stored value, or a UsageError built by `fail(what)`. */
export function checkValue(rule: OptionRule, value: unknown, fail: (what: string) => UsageError): unknown {
  const r = rule.schema.safeParse(value);
  if (!r.success) throw fail(rule.what);
  return rule.finish ? rule.finish(r.data) : r.data;
}

/** A flag's parser, carrying its rule so a --config file or an AUTOPEFT_* variable is checked by it too. */
export type RuleParser<T = unknown> = ((text: string) => T) & { readonly rule: OptionRule };

/** A commander argument parser for `flag` under `rule`. */
export function flagParser(flag: string, rule: OptionRule): RuleParser {
  const parse = (text: string) =>
    checkValue(rule, rule.fromText(text), (what) => new UsageError(`${flag} must be ${what}, got "${text}"`));
  return Object.assign(parse, { rule });
}

/** The rule a parser made by flagParser carries (undefined for other parsers). */
export function ruleOf(parser: unknown): OptionRule | undefined {
  return typeof parser === 'function' && 'rule' in parser ? (parser as RuleParser).rule : undefined;
}

export function int(flag: string, min = 0): (v: string) => number {
  return flagParser(flag, rules.int(min)) as (v: string) => number;
}

export function positive(flag: string): (v: string) => number {
  return flagParser(flag, rules.positive()) as (v: string) => number;
}

/** "0.1" -> fraction, "500" -> count. */
export function sizeSpec(flag: string): (v: string) => { fraction?: number; count?: number } {
  return flagParser(flag, rules.size()) as (v: string) => { fraction?: number; count?: number };
}

/**
 * The protocol options of the commands that train (docs/paper-protocol.md). `--metric` takes any
 * metric name here: whether the task reports it is checked against the task (`selectMetric`), whose
 * message lists the task's metrics.
 */
export const protocolRules = {
  metric: {
    what: 'a metric name such as accuracy, f1, mcc, spearman',
    schema: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/),
    fromText: (t) => t,
  } satisfies OptionRule<string>,
  head: rules.oneOf<ClassifierHead>(CLASSIFIER_HEADS),
  paramDenominator: rules.oneOf<ParamDenominator>(PARAM_DENOMINATORS),
  saForm: rules.oneOf<SerialAdapterForm>(SA_FORMS),
  /** `METRIC,PCT` (a config file: [METRIC, PCT]), in the objectives' own orientation. */
  refPoint: {
    what: 'METRIC,PCT: two numbers, the metric floor and the param-% ceiling (e.g. 0.7,26)',
    schema: z.tuple([z.number().finite(), z.number().finite().positive()]),
    fromText: (t) => {
      const parts = t.split(',');
      return parts.length === 2 ? parts.map((x) => decimal(x.trim())) : Number.NaN;
    },
  } satisfies OptionRule<[number, number]>,
} as const;
