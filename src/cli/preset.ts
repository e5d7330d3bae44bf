/**
 * `--preset <name>` on the commands that run trials (search, retrain, baselines, transfer): the
 * preset's values (src/pipeline/presets.ts) fill the options the user did not set, after --config
 * and the AUTOPEFT_* variables are applied, so the precedence is flag > environment > config file >
 * preset > default. Runs as the command's own preAction hook (after the program's config hook and
 * before the action reads its options).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { getPreset, PRESET_NAMES, presetValues, type PresetCommand } from '../pipeline/presets.js';
import { decimal, flagParser, rules, type OptionRule } from './options.js';

/** `--warmup-ratio`: a share of the steps in [0, 1). */
export const warmupRatioRule: OptionRule<number> = {
  what: 'a number in [0, 1)',
  schema: z.number().min(0).lt(1),
  fromText: decimal,
};

/** `--weight-decay`: a finite number >= 0. */
export const weightDecayRule: OptionRule<number> = {
  what: 'a number >= 0',
  schema: z.number().min(0).finite(),
  fromText: decimal,
};

export const presetRule: OptionRule<string> = rules.oneOf(PRESET_NAMES);

/** Where a value the user set comes from (commander's sources; 'default' and undefined are not the user's). */
const USER_SOURCES = new Set(['cli', 'env', 'config']);

export interface PresetUse {
  name: string;
  /** Option keys the preset set. */
  applied: string[];
  /** Preset settings this command has no option for (reported, not silently dropped). */
  notWired: string[];
  /** Preset settings that do not apply to this run, with why ("head (use-lite has no pooler)"). */
  skipped: string[];
}

/** The preset use of the last run of each command (read by the command's action). */
const uses = new WeakMap<Command, PresetUse>();

export function presetUseOf(cmd: Command): PresetUse | undefined {
  return uses.get(cmd);
}

/**
 * Adds `--preset <name>` to `cmd` and the hook that applies it; the hook writes `presetLine` to
 * `log`. With `taskOption`, the per-task settings (`metric`) resolve against that option's task.
 */
export function addPresetFlag(
  cmd: Command,
  command: PresetCommand,
  log: { write(s: string): unknown },
  taskOption?: string,
): Command {
  if (!cmd.options.some((o) => o.attributeName() === 'preset'))
    cmd.option(
      '--preset <name>',
      `option values of a protocol (${PRESET_NAMES.join(', ')}; docs/paper-protocol.md); every flag still overrides`,
      flagParser('--preset', presetRule),
    );
  cmd.hook('preAction', (thisCmd) => {
    const name = thisCmd.getOptionValue('preset') as string | undefined;
    uses.delete(thisCmd);
    if (name === undefined) return;
    const task = taskOption === undefined ? undefined : (thisCmd.getOptionValue(taskOption) as string | undefined);
    const use = applyPresetTo(thisCmd, name, command, task);
    uses.set(thisCmd, use);
    log.write(`${presetLine(use)}\n`);
  });
  return cmd;
}

/** Sets the preset's values on `cmd`'s options the user did not set; see PresetUse. */
export function applyPresetTo(cmd: Command, name: string, command: PresetCommand, task?: string): PresetUse {
  const preset = getPreset(name);
  const keys = new Set(cmd.options.map((o) => o.attributeName()));
  const userSet = (k: string) => USER_SOURCES.has(cmd.getOptionValueSource(k) ?? '');
  const use: PresetUse = { name, applied: [], notWired: [], skipped: [] };
  const model = keys.has('model') ? (cmd.getOptionValue('model') as string | undefined) : undefined;
  const external = keys.has('trialCmd') && cmd.getOptionValue('trialCmd') !== undefined;
  for (const [key, value] of Object.entries(presetValues(preset, command, task))) {
    // Settings that cannot hold for this run are left out and said so (an explicit flag would be an error).
    if ((key === 'metric' || key === 'head') && external) {
      use.skipped.push(`${key} (a --trial-cmd command chooses its own)`);
      continue;
    }
    if (key === 'head' && model === 'use-lite') {
      use.skipped.push('head (use-lite has no pooler to replace)');
      continue;
    }
    // A list of seeds is `--seed first --seeds count` here (the commands train seeds first..first+count-1).
    if (key === 'seeds' && Array.isArray(value) && keys.has('seeds') && keys.has('seed')) {
      const list = value as number[];
      const contiguous = list.every((s, i) => s === list[0]! + i);
      if (!contiguous) {
        use.notWired.push(key);
        continue;
      }
      if (!userSet('seeds')) {
        cmd.setOptionValueWithSource('seeds', list.length, 'preset');
        use.applied.push('seeds');
      }
      if (!userSet('seed')) {
        cmd.setOptionValueWithSource('seed', list[0]!, 'preset');
        use.applied.push('seed');
      }
      continue;
    }
    if (!keys.has(key)) {
      use.notWired.push(key);
      continue;
    }
    if (userSet(key)) continue;
    cmd.setOptionValueWithSource(key, value, 'preset');
    use.applied.push(key);
  }
  return use;
}

/** One line for stderr: what the preset set, and what it could not. */
export function presetLine(use: PresetUse): string {
  return `preset ${use.name}: ${use.applied.length > 0 ? `set ${use.applied.join(', ')}` : 'every setting given by the user'}${use.skipped.length > 0 ? `; not for this run: ${use.skipped.join(', ')}` : ''}${use.notWired.length > 0 ? `; not applied (no switch): ${use.notWired.join(', ')}` : ''}`;
}

/** Whether `key`'s value on `cmd` was set by a preset (not by the user, not a default). */
export function fromPreset(cmd: Command, key: string): boolean {
  return cmd.getOptionValueSource(key) === 'preset';
}
