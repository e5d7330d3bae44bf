/**
 * `resolveModel(idOrDir)`: a local checkpoint folder as is, or a hub model id downloaded into the
 * shared hub cache (see ./cache.ts) from `<endpoint>/<id>/resolve/<revision>/<file>`.
 *
 * Online: for each file a HEAD request (redirects not followed, as huggingface_hub does: the
 * hub's 302 to its CDN carries X-Linked-Etag / X-Repo-Commit / X-Linked-Size) finds the blob
 * name and commit; a blob already cached is not downloaded again. Downloads stream to
 * `blobs/<etag>.<pid>.incomplete` and are renamed into place; snapshot entries are relative
 * symlinks (copies where symlinks fail). Offline (`offline: true` or HF_HUB_OFFLINE=1): only
 * the cache is used. If the hub cannot be reached and the cache holds the revision, the cache
 * is used.
 *
 * Everything the server chooses is validated before it touches the file system: the commit
 * (X-Repo-Commit) must be 40 hex characters, blob names (ETags) plain tokens, shard names from the
 * index plain file names ending in .safetensors, all checked before the first shard is fetched;
 * every destination is resolved (symlinks followed) and refused outside the cache; downloaded bytes
 * must match the ETag when it is a content hash (sha256 for LFS files, git's blob sha1 otherwise).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve as resolvePath } from 'node:path';
import { ModelFileError } from '../io/errors.js';
import {
  cachedSnapshot,
  envFlag,
  hubCacheDir,
  isCommitHash,
  isCompleteCheckpoint,
  isSafeRepoFileName,
  isSafeRevision,
  repoFolderName,
  staysInside,
  type Env,
} from './cache.js';

/** A hub download or cache lookup failed. */
export class HubError extends ModelFileError {
  readonly modelId: string;
  /** HTTP status when the hub answered. */
  readonly status: number | undefined;
  constructor(modelId: string, file: string, message: string, status?: number) {
    super(file, message);
    this.name = 'HubError';
    this.modelId = modelId;
    this.status = status;
  }
}

export interface DownloadProgress {
  file: string;
  loaded: number;
  /** Bytes expected, when the server says. */
  total: number | undefined;
}

export interface ResolveModelOptions {
  /** Cache folder; default from HF_HUB_CACHE / HF_HOME / ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Never touch the network (also HF_HUB_OFFLINE=1). */
  offline?: boolean;
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Hub URL; default HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Bearer token; default HF_TOKEN (or HUGGING_FACE_HUB_TOKEN). */
  token?: string;
  /** fetch implementation (default the global one). */
  fetch?: typeof fetch;
  onProgress?: (p: DownloadProgress) => void;
  /** Environment to read HF_* variables from (default process.env). */
  env?: Env;
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

function looksLikePath(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || s.includes('\\') || s.split('/').length > 2;
}

/**
 * A local folder holding a checkpoint, for a folder path or a hub model id (downloaded or cached).
 */
export async function resolveModel(idOrDir: string, opts: ResolveModelOptions = {}): Promise<string> {
  if (existsSync(idOrDir) && statSync(idOrDir).isDirectory()) return resolvePath(idOrDir);
  if (looksLikePath(idOrDir) || !REPO_ID.test(idOrDir) || idOrDir.includes('--') || idOrDir.includes('..')) {
    throw new ModelFileError(
      idOrDir,
      `${idOrDir}: no such checkpoint folder, and not a hub model id (expected "org/name"); check the path`,
    );
  }
  const env = opts.env ?? process.env;
  const modelId = idOrDir;
  const revision = opts.revision ?? 'main';
  if (!isCommitHash(revision) && !isSafeRevision(revision)) {
    throw new HubError(
      modelId,
      modelId,
      `--revision ${JSON.stringify(revision)} is not a branch, tag or 40-character commit hash; check --revision`,
    );
  }
  const cacheDir = opts.cacheDir ?? hubCacheDir(env);
  const offline = opts.offline ?? envFlag(env['HF_HUB_OFFLINE']);
  const cached = cachedSnapshot(cacheDir, modelId, revision);
  if (offline) {
    if (cached && isCompleteCheckpoint(cached)) return cached;
    throw new HubError(
      modelId,
      modelId,
      `${modelId} (revision ${revision}) is not in the hub cache ${cacheDir} and offline mode is on${opts.offline ? '' : ' (HF_HUB_OFFLINE)'}; download it once online or pass a local folder`,
    );
  }
  const session = new HubSession(modelId, revision, cacheDir, {
    endpoint: (opts.endpoint ?? env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, ''),
    token: opts.token ?? env['HF_TOKEN'] ?? env['HUGGING_FACE_HUB_TOKEN'],
    fetch: opts.fetch ?? fetch,
    onProgress: opts.onProgress,
  });
  try {
    return await session.downloadCheckpoint();
  } catch (e) {
    if (e instanceof NetworkError) {
      if (cached && isCompleteCheckpoint(cached)) return cached;
      throw new HubError(
        modelId,
        e.file,
        `cannot reach ${session.endpoint} for ${modelId}/${e.file} (${e.message}) and the model is not in the cache ${cacheDir}; check the network, or set HF_ENDPOINT / HF_HUB_OFFLINE=1`,
      );
    }
    throw e;
  }
}

/** fetch itself failed (no HTTP answer). */
class NetworkError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

interface FileHead {
  etag: string | undefined;
  commit: string | undefined;
  size: number | undefined;
}

class HubSession {
  readonly endpoint: string;
  private readonly repoDir: string;
  private commit: string | undefined;
  private readonly token: string | undefined;
  private readonly doFetch: typeof fetch;
  private readonly onProgress: ((p: DownloadProgress) => void) | undefined;

  constructor(
    readonly modelId: string,
    readonly revision: string,
    readonly cacheDir: string,
    o: {
      endpoint: string;
      token: string | undefined;
      fetch: typeof fetch;
      onProgress: ((p: DownloadProgress) => void) | undefined;
    },
  ) {
    this.endpoint = o.endpoint;
    this.token = o.token;
    this.doFetch = o.fetch;
    this.onProgress = o.onProgress;
    this.repoDir = join(cacheDir, repoFolderName(modelId));
  }

  async downloadCheckpoint(): Promise<string> {
    await this.get('config.json', true);
    if (!(await this.get('model.safetensors', false))) {
      const index = await this.get('model.safetensors.index.json', false);
      if (!index) {
        throw new HubError(
          this.modelId,
          'model.safetensors',
          `${this.modelId} has no model.safetensors or model.safetensors.index.json at revision ${this.revision}; only safetensors weights are supported (convert pytorch_model.bin first)`,
          404,
        );
      }
      let shards: string[];
      try {
        const wm =
          (JSON.parse(await readFile(index, 'utf8')) as { weight_map?: Record<string, string> }).weight_map ?? {};
        shards = [...new Set(Object.values(wm))];
      } catch (e) {
        throw new HubError(
          this.modelId,
          'model.safetensors.index.json',
          `${this.modelId}/model.safetensors.index.json is not valid JSON (${(e as Error).message})`,
        );
      }
      if (shards.length === 0) {
        throw new HubError(
          this.modelId,
          'model.safetensors.index.json',
          `${this.modelId}/model.safetensors.index.json has an empty weight_map; the checkpoint has no weights`,
        );
      }
      // Every name is checked before the first shard is fetched: nothing is written for a bad index.
      for (const s of shards) {
        if (!isSafeRepoFileName(s) || !s.endsWith('.safetensors')) {
          throw new HubError(
            this.modelId,
            'model.safetensors.index.json',
            `${this.modelId}/model.safetensors.index.json names shard ${JSON.stringify(s).slice(0, 80)}, not a plain *.safetensors file name at the repo root; refusing to download`,
          );
        }
      }
      for (const s of shards) await this.get(s, true);
    }
    await this.get('tokenizer_config.json', false);
    if (!(await this.get('tokenizer.json', false)) && !(await this.get('vocab.txt', false))) {
      const v = await this.get('vocab.json', false);
      const m = v ? await this.get('merges.txt', false) : undefined;
      if (!m) {
        throw new HubError(
          this.modelId,
          'tokenizer.json',
          `${this.modelId} has no tokenizer files (tokenizer.json, vocab.txt, or vocab.json + merges.txt) at revision ${this.revision}`,
          404,
        );
      }
    }
    return this.snapshotDir();
  }

  private snapshotDir(): string {
    return join(this.repoDir, 'snapshots', this.commit ?? this.revision);
  }

  /** `p` if it stays inside the cache (symlinks followed), else a HubError: never write elsewhere. */
  private contained(file: string, p: string): string {
    if (!staysInside(this.cacheDir, p)) {
      throw new HubError(
        this.modelId,
        file,
        `${this.modelId}/${file}: destination ${p} would lie outside the hub cache ${this.cacheDir}; refusing (remove the symlink or folder that leads out of the cache)`,
      );
    }
    return p;
  }

  private url(file: string): string {
    return `${this.endpoint}/${this.modelId}/resolve/${encodeURIComponent(this.revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async request(file: string, init: RequestInit, url = this.url(file)): Promise<Response> {
    try {
      return await this.doFetch(url, {
        ...init,
        headers: { ...this.headers(), ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new NetworkError(file, cause?.code ?? cause?.message ?? (e as Error).message);
    }
  }

  private httpError(file: string, res: Response): HubError {
    const code = res.headers.get('x-error-code');
    const status = res.status;
    if (code === 'RepositoryNotFound' || ((status === 401 || status === 403) && code !== 'GatedRepo')) {
      return new HubError(
        this.modelId,
        file,
        `${this.modelId}: no local folder of that name, and no such model on ${this.endpoint} (HTTP ${status}); check the path or id, or set HF_TOKEN for a private model`,
        status,
      );
    }
    if (code === 'GatedRepo')
      return new HubError(
        this.modelId,
        file,
        `${this.modelId} is gated (HTTP ${status}); accept its terms on the hub and set HF_TOKEN`,
        status,
      );
    if (code === 'RevisionNotFound')
      return new HubError(
        this.modelId,
        file,
        `${this.modelId}: revision ${this.revision} not found (HTTP ${status}); check --revision`,
        status,
      );
    if (status === 404)
      return new HubError(
        this.modelId,
        file,
        `${this.modelId}/${file}: not found on ${this.endpoint} at revision ${this.revision} (HTTP 404)`,
        status,
      );
    return new HubError(
      this.modelId,
      file,
      `${this.modelId}/${file}: download failed with HTTP ${status} ${res.statusText} from ${this.endpoint}; retry later`,
      status,
    );
  }

  /** HEAD the file; relative redirects (renamed repos) are followed, CDN redirects are not. */
  private async head(file: string): Promise<FileHead | undefined> {
    let url = this.url(file);
    for (let hop = 0; hop < 5; hop++) {
      const res = await this.request(file, { method: 'HEAD', redirect: 'manual' }, url);
      const h = res.headers;
      if (res.status >= 300 && res.status < 400) {
        const loc = h.get('location');
        const next = loc ? new URL(loc, url) : undefined;
        if (next && next.origin === new URL(url).origin && !h.get('x-linked-etag')) {
          url = next.toString();
          continue;
        }
      } else if (
        res.status === 404 &&
        h.get('x-error-code') !== 'RepositoryNotFound' &&
        h.get('x-error-code') !== 'RevisionNotFound'
      ) {
        return undefined;
      } else if (!res.ok) {
        throw this.httpError(file, res);
      }
      const etag = (h.get('x-linked-etag') ?? h.get('etag') ?? undefined)?.replace(/^W\//, '').replace(/"/g, '');
      const sizeText = h.get('x-linked-size') ?? (res.status < 300 ? h.get('content-length') : null);
      // A server-chosen name becomes a file name: accept only plain tokens.
      const safeEtag = etag && /^[A-Za-z0-9._-]{1,128}$/.test(etag) && !etag.startsWith('.') ? etag : undefined;
      const commit = h.get('x-repo-commit') ?? undefined;
      // The commit becomes a folder name and the content of refs/<revision>: 40 hex or nothing.
      if (commit !== undefined && !isCommitHash(commit)) {
        throw new HubError(
          this.modelId,
          file,
          `${this.modelId}/${file}: ${this.endpoint} sent X-Repo-Commit ${JSON.stringify(commit).slice(0, 60)}, not a 40-character commit hash; refusing (check HF_ENDPOINT)`,
        );
      }
      return {
        etag: safeEtag,
        commit,
        size: sizeText !== null && sizeText !== undefined ? Number(sizeText) : undefined,
      };
    }
    throw new HubError(this.modelId, file, `${this.modelId}/${file}: too many redirects from ${this.endpoint}`);
  }

  /** Make sure `file` is in the snapshot; its path, or undefined when the repo has no such file (and !required). */
  private async get(file: string, required: boolean): Promise<string | undefined> {
    const head = await this.head(file);
    if (!head) {
      if (required)
        throw new HubError(
          this.modelId,
          file,
          `${this.modelId}/${file}: not found on ${this.endpoint} at revision ${this.revision} (HTTP 404); is this a BERT/RoBERTa checkpoint?`,
          404,
        );
      return undefined;
    }
    if (this.commit === undefined) {
      this.commit = head.commit ?? (isCommitHash(this.revision) ? this.revision : undefined);
      if (this.commit !== undefined && !isCommitHash(this.revision)) {
        const ref = this.contained(file, join(this.repoDir, 'refs', this.revision));
        await mkdir(dirname(ref), { recursive: true });
        await atomicWrite(ref, this.commit);
      }
    }
    const target = this.contained(file, join(this.snapshotDir(), file));
    let blob = head.etag !== undefined ? this.contained(file, join(this.repoDir, 'blobs', head.etag)) : undefined;
    const haveBlob =
      blob !== undefined && existsSync(blob) && (head.size === undefined || statSync(blob).size === head.size);
    if (!haveBlob) blob = await this.download(file, head);
    await linkInto(blob!, target);
    return target;
  }

  private async download(file: string, head: FileHead): Promise<string> {
    const blobs = this.contained(file, join(this.repoDir, 'blobs'));
    await mkdir(blobs, { recursive: true });
    const tmp = join(blobs, `${head.etag ?? 'download'}.${process.pid}.${Date.now()}.incomplete`);
    const res = await this.request(file, { method: 'GET', redirect: 'follow' });
    if (!res.ok || !res.body) throw this.httpError(file, res);
    const lenText = res.headers.get('content-length');
    const total = head.size ?? (lenText !== null ? Number(lenText) : undefined);
    const hash = createHash('sha256');
    const fh = await open(tmp, 'w');
    let loaded = 0;
    try {
      try {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          await fh.write(chunk);
          hash.update(chunk);
          loaded += chunk.length;
          this.onProgress?.({ file, loaded, total });
        }
      } catch (e) {
        throw new HubError(
          this.modelId,
          file,
          `${this.modelId}/${file}: download interrupted after ${loaded} bytes (${(e as Error).message}); run again to retry`,
        );
      }
      if (total !== undefined && loaded !== total) {
        throw new HubError(
          this.modelId,
          file,
          `${this.modelId}/${file}: download incomplete (${loaded} of ${total} bytes); run again to retry`,
        );
      }
      await fh.close();
      const mismatch = await etagMismatch(head.etag, tmp, hash.copy().digest('hex'));
      if (mismatch) {
        throw new HubError(
          this.modelId,
          file,
          `${this.modelId}/${file}: downloaded bytes do not match the ${mismatch} the server sent (ETag ${head.etag}); refusing the file (check HF_ENDPOINT, then run again)`,
        );
      }
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    // NOTE: without an ETag the blob is named by the content's sha256 (what the hub uses for LFS files).
    const blob = this.contained(file, join(blobs, head.etag ?? hash.digest('hex')));
    await rename(tmp, blob);
    return blob;
  }
}

/**
 * Which hash the ETag names but the bytes do not match, or undefined when they match or the ETag is
 * not a content hash (a CDN's opaque tag): 64 hex = sha256 (the hub's LFS ETag), 40 hex = git's
 * blob sha1 (`blob <size>\0<bytes>`, the hub's ETag for regular files).
 */
async function etagMismatch(etag: string | undefined, path: string, sha256: string): Promise<string | undefined> {
  if (etag === undefined) return undefined;
  const tag = etag.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(tag)) return tag === sha256 ? undefined : 'sha256';
  if (/^[0-9a-f]{40}$/.test(tag)) {
    const bytes = await readFile(path);
    const git = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    return tag === git ? undefined : 'git blob sha1';
  }
  return undefined;
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Point `target` at `blob` with a relative symlink (a copy where symlinks are not allowed). */
async function linkInto(blob: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await symlink(relative(dirname(target), blob), tmp);
  } catch {
    await copyFile(blob, tmp);
  }
  await rename(tmp, target);
}
