/**
 * The Hugging Face hub cache layout, as huggingface_hub writes it, so both share one cache:
 *   <cache>/models--<org>--<name>/blobs/<etag>               file contents
 *   <cache>/models--<org>--<name>/snapshots/<commit>/<file>  relative symlink -> ../../blobs/<etag>
 *   <cache>/models--<org>--<name>/refs/<revision>            text: the commit hash
 * <cache> = $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
 * ~/.cache/huggingface/hub.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

/** The hub cache folder for an environment. */
export function hubCacheDir(env: Env = process.env): string {
  if (env['HF_HUB_CACHE']) return expandHome(env['HF_HUB_CACHE']);
  if (env['HUGGINGFACE_HUB_CACHE']) return expandHome(env['HUGGINGFACE_HUB_CACHE']);
  if (env['HF_HOME']) return join(expandHome(env['HF_HOME']), 'hub');
  const xdg = env['XDG_CACHE_HOME'] ? expandHome(env['XDG_CACHE_HOME']) : join(homedir(), '.cache');
  return join(xdg, 'huggingface', 'hub');
}

/** huggingface_hub's truthy env values. */
export function envFlag(v: string | undefined): boolean {
  return v !== undefined && ['1', 'on', 'yes', 'true'].includes(v.trim().toLowerCase());
}

/** `models--org--name` for `org/name`. */
export function repoFolderName(modelId: string): string {
  return `models--${modelId.split('/').join('--')}`;
}

export function isCommitHash(rev: string): boolean {
  return /^[0-9a-f]{40}$/.test(rev);
}

/**
 * A branch or tag name that is safe as a path under refs/: git-ref characters only, no empty,
 * `.` or `..` segment (huggingface_hub's `refs/pr/1` style stays allowed).
 */
export function isSafeRevision(rev: string): boolean {
  return (
    rev.length <= 200 &&
    /^[A-Za-z0-9._/-]+$/.test(rev) &&
    rev.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !seg.startsWith('.'))
  );
}

/**
 * A file name a server may choose for a file at the repo root (shards listed by an index): one plain
 * segment, no separators, not hidden, nothing a shell or file system treats specially.
 */
export function isSafeRepoFileName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= 200 && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name);
}

/** Whether `p` lies strictly inside `root` (lexically). */
export function isInside(root: string, p: string): boolean {
  const rel = relative(resolve(root), resolve(p));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Whether `p` stays inside `root` once symlinks are followed: lexically inside, and the deepest
 * existing ancestor of `p` resolves (realpath) inside `root`'s realpath. A planted symlink in the
 * cache cannot carry a write elsewhere.
 */
export function staysInside(root: string, p: string): boolean {
  if (!isInside(root, p)) return false;
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return true; // the cache does not exist yet: nothing under it can be a symlink
  }
  let probe = resolve(p);
  while (!existsSync(probe)) {
    const up = dirname(probe);
    if (up === probe) return true;
    probe = up;
  }
  const real = realpathSync(probe);
  return real === realRoot || isInside(realRoot, real);
}

/** Snapshot folder a revision points to in the cache, if the ref (or commit folder) exists. */
export function cachedSnapshot(cacheDir: string, modelId: string, revision: string): string | undefined {
  const repo = join(cacheDir, repoFolderName(modelId));
  let commit: string | undefined;
  if (isCommitHash(revision)) commit = revision;
  else {
    if (!isSafeRevision(revision)) return undefined;
    const ref = join(repo, 'refs', revision);
    if (existsSync(ref)) commit = readFileSync(ref, 'utf8').trim();
  }
  // A ref file is trusted only when it holds a commit hash: anything else (e.g. a path written by a
  // hostile server into an older cache) never becomes part of a path.
  if (commit === undefined || !isCommitHash(commit)) return undefined;
  const snap = join(repo, 'snapshots', commit);
  return existsSync(snap) && staysInside(cacheDir, snap) ? snap : undefined;
}

/**
 * Whether a folder holds a loadable checkpoint: config.json, weights (model.safetensors, or an
 * index whose shards are all present) and a tokenizer source.
 */
export function isCompleteCheckpoint(dir: string): boolean {
  const has = (f: string): boolean => existsSync(join(dir, f));
  if (!has('config.json')) return false;
  if (!has('model.safetensors')) {
    if (!has('model.safetensors.index.json')) return false;
    try {
      const idx = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as {
        weight_map?: Record<string, string>;
      };
      const shards = new Set(Object.values(idx.weight_map ?? {}));
      if (shards.size === 0 || ![...shards].every((s) => isSafeRepoFileName(s) && has(s))) return false;
    } catch {
      return false;
    }
  }
  return has('tokenizer.json') || has('vocab.txt') || (has('vocab.json') && has('merges.txt'));
}
