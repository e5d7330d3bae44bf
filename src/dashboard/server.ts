/**
 * The dashboard's HTTP server (node:http): static client files from this package's own `static/`
 * folder, the vendored ECharts bundle, read-only JSON endpoints over a storage, and a server-sent
 * events stream that says when a study changed (the server polls the storage's study markers while
 * clients listen). Study data is read once per change and shared by all browsers (`StudyCache`).
 *
 * Security: every route is GET/HEAD (anything else is 405), static names are looked up in a list
 * read from the folder at start (a request can never name a path), JSON is never HTML, a strict
 * Content-Security-Policy forbids inline scripts, and on a loopback address the Host header must be
 * a loopback name (a page on another site cannot reach the server through DNS rebinding).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StudyCache } from './cache.js';
import type { ReadOnlyStorage } from './data.js';

/** The folder the client files are served from (and only from). */
export const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface DashboardOptions {
  storage: ReadOnlyStorage;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How often the live-update loop polls the storage while a client listens (default 1000 ms). */
  pollMs?: number;
}

export interface Dashboard {
  server: Server;
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function loadStatic(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = TYPES[extname(name)];
    if (type && /^[a-z0-9-]+\.[a-z]+$/.test(name))
      files.set(name, { body: readFileSync(join(STATIC_DIR, name)), type });
  }
  const echarts = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  files.set('echarts.min.js', { body: readFileSync(echarts), type: TYPES['.js']! });
  return files;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_STORE = { 'Cache-Control': 'no-store' };
const json = (res: ServerResponse, status: number, value: unknown) =>
  send(res, status, JSON_TYPE, JSON.stringify(value), NO_STORE);

/** Starts the dashboard; resolves once it listens. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const host = o.host ?? '127.0.0.1';
  const pollMs = o.pollMs ?? 1000;
  const files = loadStatic();
  const clients = new Set<ServerResponse>();
  const cache = new StudyCache(o.storage);
  let last: Map<string, string> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let polling = false;

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      // One small query: a study's progress marker moves when a trial is added or changes state or
      // its attributes change (not on heartbeats), which is what the pages show.
      const now = new Map((await o.storage.studyMarkers()).map((m) => [m.name, m.progress]));
      const changed = last === null ? [] : [...now.keys()].filter((k) => last!.get(k) !== now.get(k));
      const removed = last === null ? [] : [...last.keys()].filter((k) => !now.has(k));
      last = now;
      if (changed.length + removed.length > 0) {
        const msg = `event: change\ndata: ${JSON.stringify({ studies: [...changed, ...removed] })}\n\n`;
        for (const c of clients) c.write(msg);
      }
    } catch {
      // A storage busy with a writer: try again at the next tick.
    } finally {
      polling = false;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain; charset=utf-8', 'the dashboard is read-only\n', { Allow: 'GET, HEAD' });
    }
    if (isLoopback(host)) {
      const h = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(h)) return send(res, 421, 'text/plain; charset=utf-8', 'unexpected Host header\n');
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/' || path === '/index.html') {
      const f = files.get('index.html')!;
      return send(res, 200, f.type, f.body, { 'Cache-Control': 'no-cache' });
    }
    if (path.startsWith('/static/')) {
      const f = files.get(path.slice('/static/'.length));
      if (!f) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      return send(res, 200, f.type, f.body, { 'Cache-Control': 'no-cache' });
    }
    if (path === '/api/studies') return json(res, 200, await cache.summaries());
    if (path === '/api/hypervolume') return json(res, 200, await cache.overlay(url.searchParams.getAll('study')));
    const m = /^\/api\/studies\/([^/]+)$/.exec(path);
    if (m) {
      let name: string;
      try {
        name = decodeURIComponent(m[1]!);
      } catch {
        return json(res, 400, { error: 'bad study name encoding' });
      }
      const d = await cache.detailJson(name);
      return d === undefined
        ? json(res, 404, { error: `no study named ${JSON.stringify(name)}` })
        : send(res, 200, JSON_TYPE, d, NO_STORE);
    }
    if (path === '/api/events') {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      });
      res.write(`retry: 2000\nevent: hello\ndata: {"pollMs":${pollMs}}\n\n`);
      clients.add(res);
      if (!timer) {
        await poll();
        timer = setInterval(() => void poll(), pollMs);
      }
      req.on('close', () => {
        clients.delete(res);
        if (clients.size === 0 && timer) {
          clearInterval(timer);
          timer = null;
          last = null;
        }
      });
      return;
    }
    return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) json(res, 500, { error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    host: addr.address,
    port: addr.port,
    url: `http://${shown}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        if (timer) clearInterval(timer);
        timer = null;
        for (const c of clients) c.end();
        clients.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
