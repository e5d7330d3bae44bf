/**
 * The ask/tell Study: glues a Sampler (proposes configs) to a Storage (persists trials).
 *
 *   const study = await createStudy({ storage, name, objectives, sampler, loadIfExists: true });
 *   const trial = await study.ask();          // a WAITING (enqueued) trial if any, else a sampled one
 *   await study.tell(trial.number, [metric]);  // known objectives (param %) are filled in here
 *
 * Several Study objects (in one or several processes) may work on one stored study at once: every
 * state change is an atomic storage call, so a trial is claimed and told exactly once.
 */
import { DuplicateStudyError, TrialLimitError, TrialNotRunningError } from '../../storage/errors.js';
import type { Storage } from '../../storage/types.js';
import type {
  AttrValue,
  Config,
  Direction,
  FailStaleResult,
  InterruptKind,
  InterruptResult,
  ObjectiveSpec,
  StudyRecord,
  TrialRecord,
  TrialState,
} from '../../trials/index.js';
import { paretoFrontIndices, toMinimization } from '../pareto/index.js';
import type { Sampler } from '../types.js';
import { SamplerOutputError, StudyMismatchError, StudyOptionsError } from './errors.js';
import { resolveTellArg, type TellArg } from './tell.js';
import { deadLocalWorkers, defaultWorkerId } from './workers.js';

/** Study system attribute holding the sampler's state: `{ name, state }` (see `Sampler.exportState`). */
export const SAMPLER_STATE_KEY = 'sampler';

export interface HeartbeatOptions {
  /** Beat every RUNNING trial this Study asked for, this often. */
  intervalMs: number;
  /**
   * When set, each ask first fails RUNNING trials silent for longer than this (any worker's) or
   * held by a dead process of this host (`requeueOrphans`).
   */
  staleAfterMs?: number;
  /** Re-queue the configs of the trials failed by that sweep (default true). */
  requeueStale?: boolean;
  /** Heartbeat write errors other than "trial no longer RUNNING" (default: one console.warn line). */
  onError?: (error: unknown) => void;
}

interface CommonOptions {
  storage: Storage;
  name: string;
  sampler: Sampler;
  /** Identifies this worker in the trials it claims. Default `<host>:<pid>:<random>`. */
  workerId?: string;
  heartbeat?: HeartbeatOptions;
}

export interface CreateStudyOptions extends CommonOptions {
  objectives: readonly ObjectiveSpec[];
  /** Load the study when it exists (its objectives must match) instead of failing. Default false. */
  loadIfExists?: boolean;
  /** Stored with a newly created study (ignored when an existing one is loaded). */
  userAttrs?: Record<string, AttrValue>;
  /** System attributes stored with a newly created study (ignored when an existing one is loaded). */
  systemAttrs?: Record<string, AttrValue>;
}

export interface AskOptions {
  /**
   * Create new trials only while the study holds fewer than this many trials that count toward a
   * target (all but interrupted ones), checked atomically per trial: several workers asking at
   * once never overshoot it. Enqueued trials are claimed regardless (they already count). The
   * batch may then come back short, or empty.
   */
  maxTrials?: number;
}

export interface LoadStudyOptions extends CommonOptions {
  /**
   * The objectives, to supply their `known` functions (functions are not stored). Names and
   * directions must match the stored ones. Default: the stored names and directions, none known.
   */
  objectives?: readonly ObjectiveSpec[];
}

export interface EnqueueOptions {
  userAttrs?: Record<string, AttrValue>;
  /**
   * Return the existing trial instead when one with an equal config is WAITING, RUNNING or
   * COMPLETE (a check-then-insert: two processes enqueueing the same config at the same instant
   * may still both insert it).
   */
  skipIfExists?: boolean;
}

/** Where `warmStartFrom` copies from: another Study, or a stored study by name. */
export type WarmStartSource = Study | { storage: Storage; name: string };

/** JSON of a config with sorted keys, to compare configs regardless of key order. */
function configKey(config: Config): string {
  return JSON.stringify(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
}

function checkObjectivesMatch(record: StudyRecord, objectives: readonly ObjectiveSpec[], where: string): void {
  const want = objectives.map((o) => `${o.name}:${o.direction}`).join(', ');
  const have = record.objectiveNames.map((n, i) => `${n}:${record.directions[i]}`).join(', ');
  if (want !== have) {
    throw new StudyMismatchError(
      `${where}: study "${record.name}" has objectives (${have}) but (${want}) were given; use the same objectives or another study name`,
    );
  }
}

export class Study {
  readonly storage: Storage;
  readonly name: string;
  readonly sampler: Sampler;
  readonly objectives: readonly ObjectiveSpec[];
  readonly directions: readonly Direction[];
  readonly workerId: string;
  private readonly heartbeatOptions: HeartbeatOptions | undefined;
  /** Trials this object asked for and has not told yet: the ones its heartbeat keeps alive. */
  private readonly running = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;

  /** Use `createStudy` / `loadStudy`. */
  constructor(record: StudyRecord, options: CommonOptions & { objectives: readonly ObjectiveSpec[] }) {
    checkObjectivesMatch(record, options.objectives, 'Study');
    this.storage = options.storage;
    this.name = record.name;
    this.sampler = options.sampler;
    this.objectives = options.objectives.map((o) => ({ ...o }));
    this.directions = record.directions;
    this.workerId = options.workerId ?? defaultWorkerId();
    this.heartbeatOptions = options.heartbeat;
    const hb = options.heartbeat;
    if (hb) {
      if (!(hb.intervalMs > 0))
        throw new StudyOptionsError(`study "${this.name}": heartbeat.intervalMs must be > 0, got ${hb.intervalMs}`);
      if (hb.staleAfterMs !== undefined && !(hb.staleAfterMs > hb.intervalMs)) {
        throw new StudyOptionsError(
          `study "${this.name}": heartbeat.staleAfterMs (${hb.staleAfterMs}) must exceed intervalMs (${hb.intervalMs}) or live trials get failed`,
        );
      }
      this.timer = setInterval(() => void this.beatAll(), hb.intervalMs);
      // A forgotten close() must not keep the process alive.
      this.timer.unref();
    }
  }

  /** Numbers of the trials this Study object asked for and has not told yet. */
  runningTrials(): number[] {
    return [...this.running].sort((a, b) => a - b);
  }

  private async beatAll(): Promise<void> {
    if (this.beating) return; // a slow write must not pile up beats
    const run = async () => {
      for (const n of [...this.running]) {
        try {
          await this.storage.heartbeat(this.name, n);
        } catch (e) {
          // Failed as stale (or told) elsewhere: nothing left to keep alive.
          if (e instanceof TrialNotRunningError) this.running.delete(n);
          else
            (
              this.heartbeatOptions?.onError ??
              ((err) => console.warn(`autopeft: heartbeat of trial #${n} failed: ${String(err)}`))
            )(e);
        }
      }
    };
    this.beating = run().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  /** One trial to run: the oldest enqueued one if any, else a new config from the sampler. */
  async ask(): Promise<TrialRecord> {
    const [t] = await this.askBatch(1);
    return t!;
  }

  /**
   * Up to `n` trials to run at once: enqueued ones first, then `n - claimed` configs sampled
   * together, with every WAITING/RUNNING config (including the ones just claimed) passed as
   * pending. Exactly `n` unless `options.maxTrials` stops it.
   */
  async askBatch(n: number, options: AskOptions = {}): Promise<TrialRecord[]> {
    if (!Number.isInteger(n) || n < 1)
      throw new StudyOptionsError(`study "${this.name}": askBatch needs an integer n >= 1, got ${n}`);
    const hb = this.heartbeatOptions;
    if (hb?.staleAfterMs !== undefined)
      await this.requeueOrphans({ staleAfterMs: hb.staleAfterMs, requeue: hb.requeueStale ?? true });
    const out: TrialRecord[] = [];
    while (out.length < n) {
      const t = await this.storage.claimWaiting(this.name, this.workerId);
      if (!t) break;
      out.push(t);
      this.running.add(t.number);
    }
    const k = n - out.length;
    if (k === 0) return out;
    const create = async () => {
      for (const config of await this.sample(k)) {
        let t: TrialRecord;
        try {
          t = await this.storage.createTrial(
            this.name,
            { state: 'RUNNING', config, workerId: this.workerId },
            options.maxTrials === undefined ? {} : { maxTrials: options.maxTrials },
          );
        } catch (e) {
          if (e instanceof TrialLimitError) break; // the study is full: the rest of the batch is dropped
          throw e;
        }
        out.push(t);
        this.running.add(t.number);
      }
    };
    // Under the storage's study lock (where it has one) no other worker samples between this one's
    // read of the history and the insert of its proposals: they never repeat or ignore each other's.
    if (this.storage.withStudyLock) await this.storage.withStudyLock(this.name, create);
    else await create();
    return out;
  }

  /** `k` new configs from the sampler, which continues from (and then stores) its state in the study. */
  private async sample(k: number): Promise<Config[]> {
    const all = await this.storage.listTrials(this.name);
    const complete = all.filter((t) => t.state === 'COMPLETE');
    const pending = all.filter((t) => t.state === 'WAITING' || t.state === 'RUNNING').map((t) => t.config);
    const pruned = all.filter((t) => t.state === 'PRUNED');
    const sampler = this.sampler;
    if (sampler.importState) {
      // Stored by this or another worker of the study after its last sampling call.
      const stored = (await this.storage.getStudy(this.name)).systemAttrs[SAMPLER_STATE_KEY];
      if (stored && typeof stored === 'object' && !Array.isArray(stored) && stored.name === sampler.name)
        sampler.importState(stored.state ?? null);
    }
    const configs = await sampler.sample({ complete, pending, pruned, n: k });
    if (!Array.isArray(configs) || configs.length !== k) {
      throw new SamplerOutputError(
        `sampler "${sampler.name}" returned ${Array.isArray(configs) ? configs.length : typeof configs} configs for study "${this.name}" but ${k} were asked; fix the sampler`,
      );
    }
    if (sampler.exportState)
      await this.setSystemAttr(SAMPLER_STATE_KEY, { name: sampler.name, state: sampler.exportState() });
    return configs;
  }

  /** Finishes a RUNNING trial: values (see `TellArg`), or FAILED with a reason, or PRUNED. */
  async tell(number: number, result: TellArg): Promise<TrialRecord> {
    const outcome = await resolveTellArg(
      result,
      this.objectives,
      `study "${this.name}" trial #${number}`,
      async () => (await this.storage.getTrial(this.name, number)).config,
    );
    try {
      const t = await this.storage.tellTrial(this.name, number, outcome);
      this.running.delete(number);
      return t;
    } catch (e) {
      // Not RUNNING any more (e.g. failed as stale): stop keeping it alive. Bad values keep it RUNNING.
      if (e instanceof TrialNotRunningError) this.running.delete(number);
      throw e;
    }
  }

  /** Queues a config by hand; the next ask (of any worker) claims it before sampling. */
  async enqueue(config: Config, options: EnqueueOptions = {}): Promise<TrialRecord> {
    if (options.skipIfExists) {
      const key = configKey(config);
      const existing = (await this.storage.listTrials(this.name, { states: ['WAITING', 'RUNNING', 'COMPLETE'] })).find(
        (t) => configKey(t.config) === key,
      );
      if (existing) return existing;
    }
    return this.storage.createTrial(this.name, {
      state: 'WAITING',
      config,
      ...(options.userAttrs ? { userAttrs: options.userAttrs } : {}),
    });
  }

  /**
   * Records an intermediate value of a RUNNING trial (its first objective after `step`, e.g.
   * training examples seen), for pruners and learning curves; see `TrialRecord.intermediateValues`.
   */
  async reportIntermediate(number: number, step: number, value: number): Promise<void> {
    await this.storage.reportIntermediate(this.name, number, step, value);
  }

  /** Records that a RUNNING trial's worker is alive (the heartbeat option does this periodically). */
  async heartbeat(number: number): Promise<void> {
    await this.storage.heartbeat(this.name, number);
  }

  /** Fails RUNNING trials (of any worker) silent for more than `olderThanMs`, re-queueing their configs if asked. */
  async failStaleTrials(olderThanMs: number, options: { requeue?: boolean } = {}): Promise<FailStaleResult> {
    const r = await this.storage.failStale(this.name, { olderThanMs, requeue: options.requeue ?? false });
    for (const t of r.failed) this.running.delete(t.number);
    return r;
  }

  /**
   * Fails the RUNNING trials whose worker is gone (a process of this host that no longer exists,
   * or, with `staleAfterMs`, any worker silent for longer) as interrupted and, unless `requeue` is
   * false, enqueues their configs again: how a resumed or concurrent worker picks up a crashed
   * one's trials. One atomic storage call.
   */
  async requeueOrphans(options: { staleAfterMs?: number; requeue?: boolean } = {}): Promise<FailStaleResult> {
    const ids = (await this.trials(['RUNNING'])).flatMap((t) => (t.workerId === undefined ? [] : [t.workerId]));
    const r = await this.storage.failStale(this.name, {
      olderThanMs: options.staleAfterMs ?? Number.MAX_SAFE_INTEGER,
      requeue: options.requeue ?? true,
      deadWorkers: deadLocalWorkers(ids),
    });
    for (const t of r.failed) this.running.delete(t.number);
    return r;
  }

  /**
   * Stops a RUNNING trial through no fault of its config (`kind`: user interrupt, never started,
   * ...): FAILED with `interrupted` set, so it does not count as a failure, and with `requeue` its
   * config is enqueued again for the next ask of any worker.
   */
  async interrupt(
    number: number,
    kind: InterruptKind,
    options: { reason?: string; requeue?: boolean } = {},
  ): Promise<InterruptResult> {
    try {
      return await this.storage.interruptTrial(this.name, number, { kind, ...options });
    } finally {
      this.running.delete(number);
    }
  }

  async setUserAttr(key: string, value: AttrValue): Promise<void> {
    await this.storage.setStudyUserAttrs(this.name, { [key]: value });
  }

  async userAttrs(): Promise<Readonly<Record<string, AttrValue>>> {
    return (await this.storage.getStudy(this.name)).userAttrs;
  }

  /** A system attribute: what the library and its tools record (setup, sampler state, results), apart from user attributes. */
  async setSystemAttr(key: string, value: AttrValue): Promise<void> {
    await this.storage.setStudySystemAttrs(this.name, { [key]: value });
  }

  async systemAttrs(): Promise<Readonly<Record<string, AttrValue>>> {
    return (await this.storage.getStudy(this.name)).systemAttrs;
  }

  async setTrialUserAttr(number: number, key: string, value: AttrValue): Promise<void> {
    await this.storage.setTrialUserAttrs(this.name, number, { [key]: value });
  }

  async setTrialUserAttrs(number: number, attrs: Record<string, AttrValue>): Promise<void> {
    await this.storage.setTrialUserAttrs(this.name, number, attrs);
  }

  async trial(number: number): Promise<TrialRecord> {
    return this.storage.getTrial(this.name, number);
  }

  /** Trials sorted by number, optionally only in the given states. */
  async trials(states?: readonly TrialState[]): Promise<TrialRecord[]> {
    return this.storage.listTrials(this.name, states ? { states } : {});
  }

  /** The COMPLETE trials on the Pareto front of the objectives (equal points are all kept), by number. */
  async bestTrials(): Promise<TrialRecord[]> {
    const complete = await this.trials(['COMPLETE']);
    const front = paretoFrontIndices(
      toMinimization(
        complete.map((t) => t.values!),
        this.directions,
      ),
    );
    return front.map((i) => complete[i]!);
  }

  /**
   * Copies the COMPLETE trials of another study with the same objectives into this one (config,
   * values, user attrs, times), tagged `userAttrs.warmStartFrom = {study, trial}`. Idempotent:
   * trials copied before are skipped, so a resumed script can call it again. Returns how many were copied.
   */
  async warmStartFrom(source: WarmStartSource): Promise<number> {
    const src = await source.storage.getStudy(source.name);
    if (source.storage === this.storage && source.name === this.name) {
      throw new StudyMismatchError(`study "${this.name}" cannot warm-start from itself; pass another study`);
    }
    checkObjectivesMatch(src, this.objectives, `warm start of "${this.name}"`);
    const done = new Set<string>();
    for (const t of await this.trials(['COMPLETE'])) {
      const w = t.userAttrs.warmStartFrom;
      if (w && typeof w === 'object' && !Array.isArray(w)) done.add(`${String(w.study)}#${String(w.trial)}`);
    }
    let copied = 0;
    for (const t of await source.storage.listTrials(source.name, { states: ['COMPLETE'] })) {
      if (done.has(`${source.name}#${t.number}`)) continue;
      await this.storage.createTrial(this.name, {
        state: 'COMPLETE',
        config: t.config,
        values: t.values!,
        userAttrs: { ...t.userAttrs, warmStartFrom: { study: source.name, trial: t.number } },
        ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
        ...(t.finishedAt !== undefined ? { finishedAt: t.finishedAt } : {}),
      });
      copied++;
    }
    return copied;
  }

  /** Stops the heartbeat timer (after a last beat in flight). Does not close the storage. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }
}

/** Creates a study, or with `loadIfExists` loads the stored one so a rerun resumes where it stopped. */
export async function createStudy(options: CreateStudyOptions): Promise<Study> {
  const { storage, name, objectives } = options;
  let record = await storage.findStudy(name);
  if (!record) {
    try {
      record = await storage.createStudy({
        name,
        directions: objectives.map((o) => o.direction),
        objectiveNames: objectives.map((o) => o.name),
        ...(options.userAttrs ? { userAttrs: options.userAttrs } : {}),
        ...(options.systemAttrs ? { systemAttrs: options.systemAttrs } : {}),
      });
    } catch (e) {
      // Another process created it between our look and our insert.
      record = options.loadIfExists ? await storage.findStudy(name) : undefined;
      if (!record) throw e;
    }
  } else if (!options.loadIfExists) {
    throw new DuplicateStudyError(name, storage.location);
  }
  return new Study(record, { ...options, objectives });
}

/** Loads a stored study; throws `UnknownStudyError` when absent. */
export async function loadStudy(options: LoadStudyOptions): Promise<Study> {
  const record = await options.storage.getStudy(options.name);
  const objectives: readonly ObjectiveSpec[] =
    options.objectives ?? record.objectiveNames.map((name, i) => ({ name, direction: record.directions[i]! }));
  return new Study(record, { ...options, objectives });
}
