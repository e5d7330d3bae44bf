/**
 * What the dashboard's endpoints answer, read from the storage once per study change and shared by
 * every browser: each request first asks the storage for its study markers (one small query), and
 * a study is read again (record + all trials) only when its `version` marker moved since the last
 * read. Concurrent requests for one version wait on the same read, so the browsers that all
 * re-fetch after a `change` event cost one read, and the study page's JSON is built once per
 * version.
 *
 * Never stale: a study is read after its marker, so what is cached under a marker is at least as
 * new as it; a later write moves the marker, and the next request reads again.
 */
import type { StudyMarker } from '../storage/index.js';
import {
  detailOf,
  overlayOf,
  summaryOf,
  type HypervolumeOverlay,
  type LoadedStudy,
  type ReadOnlyStorage,
  type StudySummary,
} from './data.js';

/** One study as read at one version, and what has been computed from that read. */
interface Entry {
  version: string;
  loaded: Promise<LoadedStudy | undefined>;
  summary?: Promise<StudySummary | undefined>;
  /** The study page's JSON text. */
  detail?: Promise<string | undefined>;
}

/** How many hypervolume overlays (one per set of ticked studies and versions) are kept. */
const OVERLAYS = 8;

export class StudyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly overlays = new Map<string, Promise<HypervolumeOverlay>>();

  constructor(private readonly storage: ReadOnlyStorage) {}

  /** The current markers; entries of studies that are gone are dropped. */
  private async markers(): Promise<StudyMarker[]> {
    const ms = await this.storage.studyMarkers();
    const names = new Set(ms.map((m) => m.name));
    for (const name of this.entries.keys()) if (!names.has(name)) this.entries.delete(name);
    return ms;
  }

  private entry(m: StudyMarker): Entry {
    const held = this.entries.get(m.name);
    if (held?.version === m.version) return held;
    const e: Entry = { version: m.version, loaded: this.load(m.name) };
    this.entries.set(m.name, e);
    // A failed read (a storage busy with a writer) is not kept: the next request reads again.
    e.loaded.catch(() => this.forget(m.name, e));
    return e;
  }

  private forget(name: string, e: Entry): void {
    if (this.entries.get(name) === e) this.entries.delete(name);
  }

  private async load(name: string): Promise<LoadedStudy | undefined> {
    const record = await this.storage.findStudy(name);
    return record ? { record, trials: await this.storage.listTrials(name) } : undefined;
  }

  /** Every study's summary, in creation order. */
  async summaries(): Promise<StudySummary[]> {
    const out = await Promise.all(
      (await this.markers()).map((m) => {
        const e = this.entry(m);
        e.summary ??= e.loaded.then((l) => l && summaryOf(l.record, l.trials));
        return e.summary;
      }),
    );
    return out.filter((s) => s !== undefined);
  }

  /** The study page's JSON text; `undefined` when there is no such study. */
  async detailJson(name: string): Promise<string | undefined> {
    const m = (await this.markers()).find((x) => x.name === name);
    if (!m) return undefined;
    const e = this.entry(m);
    if (!e.detail) {
      e.detail = e.loaded.then((l) => l && JSON.stringify(detailOf(l.record, l.trials)));
      e.detail.catch(() => this.forget(name, e));
    }
    return e.detail;
  }

  /** The hypervolume overlay of the named studies (unknown names skipped). */
  async overlay(names: readonly string[]): Promise<HypervolumeOverlay> {
    const byName = new Map((await this.markers()).map((m) => [m.name, m]));
    const ms = names.flatMap((n) => byName.get(n) ?? []);
    const key = JSON.stringify(ms.map((m) => [m.name, m.version]));
    let o = this.overlays.get(key);
    if (!o) {
      o = Promise.all(ms.map((m) => this.entry(m).loaded)).then((ls) => overlayOf(ls.filter((l) => l !== undefined)));
      this.overlays.set(key, o);
      o.catch(() => this.overlays.delete(key));
      if (this.overlays.size > OVERLAYS) this.overlays.delete(this.overlays.keys().next().value!);
    }
    return o;
  }
}
