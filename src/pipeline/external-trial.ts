/**
 * Trials run by an external command (`--trial-cmd "python train.py"`), so a team can train with
 * its own stack and still use our search. The protocol, per trial:
 * - the command runs through the shell (`sh -c`), in its own process group, in the current folder;
 * - it reads ONE JSON object on stdin (`ExternalTrialInput`: the PEFT config, task, model, data
 *   folder, hyperparameters, fidelity, seed, an output folder made for it, ...);
 * - it prints ONE JSON line as the LAST non-empty line of stdout:
 *   `{"metric": 0.91, "intermediate": [0.80, 0.88, 0.91]}` (`intermediate` optional: the metric per
 *   epoch or evaluation); anything printed before that line is ignored;
 * - its stderr is streamed to the worker's log line by line;
 * - it must exit 0 within the timeout (then it gets SIGTERM, and SIGKILL 5 s later).
 * A non-zero exit, a signal, a timeout or a missing/invalid result line fails that trial (FAILED,
 * with the reason); the search goes on. The parameter % is never the command's business: the
 * study computes it from the configuration with our own formula for the study's model.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as c from '../exec/codec.js';
import { jobFunction, type JobType } from '../exec/job.js';
import type { Json } from '../exec/types.js';
import type { PeftConfig } from '../peft/config.js';
import type { TrainHyper } from '../train/trainer.js';
import type { Fidelity } from '../train/trial.js';

/** What the command reads on stdin. */
export interface ExternalTrialInput {
  study: string;
  trial: number;
  /** The backbone named in the study ('use-lite', a checkpoint folder or a hub id). */
  model: string;
  task: string;
  dataDir?: string;
  /** The configuration to train (see docs/peft.md for its keys). */
  peft: PeftConfig;
  hyper: ExternalHyper;
  fidelity?: Fidelity;
  seed: number;
  /** A folder made for this trial: checkpoints, logs, anything the command wants to keep. */
  outputDir: string;
  /** The parameter % the study records for this configuration (our formula; informative). */
  paramPct: number;
}

/** The training settings of the study, as the protocol carries them (a stable subset of ours). */
export interface ExternalHyper {
  epochs: number;
  maxSteps?: number;
  lr: number;
  batchSize: number;
  maxLength: number;
  warmupRatio?: number;
  weightDecay?: number;
  patience?: number;
}

/** The protocol's hyperparameters from the study's training settings. */
export function externalHyper(h: TrainHyper): ExternalHyper {
  const out: ExternalHyper = { epochs: h.epochs, lr: h.lr, batchSize: h.batchSize, maxLength: h.maxLength };
  if (h.maxSteps !== undefined) out.maxSteps = h.maxSteps;
  if (h.warmupRatio !== undefined) out.warmupRatio = h.warmupRatio;
  if (h.weightDecay !== undefined) out.weightDecay = h.weightDecay;
  if (h.patience !== undefined) out.patience = h.patience;
  return out;
}

/** What the command prints as its last stdout line. */
export interface ExternalTrialResult {
  metric: number;
  intermediate: number[];
  /** Wall time of the command. */
  seconds: number;
}

export interface ExternalTrialOptions {
  command: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Each line the command writes to stderr. */
  onStderr?: (line: string) => void;
}

/** Why a trial command failed, in one line (it becomes the FAILED trial's reason). */
export class ExternalTrialError extends Error {
  override name = 'ExternalTrialError';
}

/** Kept of stdout (the result line is the last one) and of stderr's tail for messages. */
const KEEP_CHARS = 64 * 1024;

function clip(s: string, n = 120): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 3)}...` : one;
}

/** The result line's checks: a finite metric, optional finite intermediate values, nothing else. */
export function parseResultLine(stdout: string): Omit<ExternalTrialResult, 'seconds'> {
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined)
    throw new ExternalTrialError(
      'trial command printed nothing on stdout; print one JSON line {"metric": <number>, "intermediate": [...]} last',
    );
  let v: unknown;
  try {
    v = JSON.parse(last);
  } catch {
    throw new ExternalTrialError(
      `trial command's last stdout line is not JSON ("${clip(last)}"); print {"metric": <number>, "intermediate": [...]} last`,
    );
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ExternalTrialError(`trial command's result line is not a JSON object ("${clip(last)}")`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'metric' && k !== 'intermediate')
      throw new ExternalTrialError(`trial command's result has an unknown key "${k}" (allowed: metric, intermediate)`);
  if (typeof o.metric !== 'number' || !Number.isFinite(o.metric))
    throw new ExternalTrialError(
      `trial command's result has no finite "metric" (got ${clip(JSON.stringify(o.metric) ?? 'nothing')})`,
    );
  const inter = o.intermediate ?? [];
  if (!Array.isArray(inter) || inter.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    throw new ExternalTrialError(`trial command's "intermediate" must be an array of finite numbers`);
  return { metric: o.metric, intermediate: inter as number[] };
}

/** Runs the command on `input` and returns its result; rejects with an `ExternalTrialError`. */
export function runExternalTrial(input: ExternalTrialInput, o: ExternalTrialOptions): Promise<ExternalTrialResult> {
  mkdirSync(input.outputDir, { recursive: true });
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new ExternalTrialError('trial command not started: interrupted'));
    // Its own process group (detached), so a timeout or an interrupt ends the whole tree it starts.
    const child = spawn(o.command, { shell: true, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    let partial = '';
    let killedFor: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const killTree = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = (why: string) => {
      if (killedFor) return;
      killedFor = why;
      killTree('SIGTERM');
      killTimer = setTimeout(() => killTree('SIGKILL'), 5000);
      killTimer.unref();
    };
    const timer = setTimeout(() => stop(`timed out after ${o.timeoutMs / 1000} s`), o.timeoutMs);
    const onAbort = () => stop('interrupted');
    o.signal?.addEventListener('abort', onAbort);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout = (stdout + d).slice(-KEEP_CHARS);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderrTail = (stderrTail + d).slice(-KEEP_CHARS);
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) o.onStderr?.(l);
    });
    // A command that never reads its stdin closes the pipe: not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(input)}\n`);
    child.on('error', (e) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      reject(new ExternalTrialError(`trial command "${clip(o.command, 60)}" could not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
      if (partial) o.onStderr?.(partial);
      const lastErr = stderrTail.trim().split('\n').at(-1);
      const said = lastErr ? `; its last stderr line: "${clip(lastErr)}"` : '';
      if (killedFor) return reject(new ExternalTrialError(`trial command ${killedFor}${said}`));
      if (code !== 0)
        return reject(
          new ExternalTrialError(
            `trial command ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${said}`,
          ),
        );
      try {
        resolve({ ...parseResultLine(stdout), seconds: (performance.now() - t0) / 1000 });
      } catch (e) {
        reject(e);
      }
    });
  });
}

// ---- as an exec job (so an interrupt or a pool shutdown ends the command through the job's signal)

export interface ExternalTrialArgs {
  command: string;
  timeoutMs: number;
  input: ExternalTrialInput;
}

export interface ExternalTrialEvent {
  kind: 'stderr';
  line: string;
}

/**
 * The PEFT config crosses the job boundary as the JSON it is in the protocol; it was built by
 * `peftFromSearch` in the caller's process (its options follow docs/peft.md, whatever they grow).
 */
const peftConfigCodec: c.Codec<PeftConfig> = {
  encode: (v) => JSON.parse(JSON.stringify(v)) as Json,
  decode(json, path) {
    if (json === null || typeof json !== 'object' || Array.isArray(json) || !Array.isArray(json.layers))
      throw new c.CodecError(path, 'a PEFT config object', json);
    return json as unknown as PeftConfig;
  },
};

const hyperCodec = c.object<ExternalHyper>({
  epochs: c.number,
  maxSteps: c.optional(c.number),
  lr: c.number,
  batchSize: c.number,
  maxLength: c.number,
  warmupRatio: c.optional(c.number),
  weightDecay: c.optional(c.number),
  patience: c.optional(c.number),
});

export const EXTERNAL_TRIAL_JOB: JobType<ExternalTrialArgs, ExternalTrialResult, ExternalTrialEvent> = {
  module: import.meta.url,
  fn: 'externalTrialJob',
  args: c.object<ExternalTrialArgs>({
    command: c.string,
    timeoutMs: c.number,
    input: c.object<ExternalTrialInput>({
      study: c.string,
      trial: c.number,
      model: c.string,
      task: c.string,
      dataDir: c.optional(c.string),
      peft: peftConfigCodec,
      hyper: hyperCodec,
      fidelity: c.optional(
        c.object<Fidelity>({
          trainFraction: c.optional(c.number),
          trainCount: c.optional(c.number),
          epochs: c.optional(c.number),
          maxSteps: c.optional(c.number),
        }),
      ),
      seed: c.number,
      outputDir: c.string,
      paramPct: c.number,
    }),
  }),
  result: c.object<ExternalTrialResult>({ metric: c.number, intermediate: c.array(c.number), seconds: c.number }),
  event: c.object<ExternalTrialEvent>({ kind: c.literal('stderr'), line: c.string }),
};

export const externalTrialJob = jobFunction(EXTERNAL_TRIAL_JOB, async (args, ctx) =>
  runExternalTrial(args.input, {
    command: args.command,
    timeoutMs: args.timeoutMs,
    signal: ctx.signal,
    onStderr: (line) => ctx.progress({ kind: 'stderr', line }),
  }),
);
