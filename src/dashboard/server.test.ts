import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { memoryStorage, type Storage } from '../storage/index.js';
import { isLoopback, startDashboard, type Dashboard } from './server.js';
import { buildStudy } from './testing/fixture.js';

/** A raw request (no URL normalisation, any method, any Host header). */
function raw(
  d: Dashboard,
  path: string,
  o: { method?: string; host?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: d.port,
        path,
        method: o.method ?? 'GET',
        headers: { Host: o.host ?? `127.0.0.1:${d.port}` },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard server', () => {
  let storage: Storage;
  let dash: Dashboard;
  before(async () => {
    storage = memoryStorage();
    await buildStudy(storage, { name: 'spam-bo', complete: 8 });
    await buildStudy(storage, { name: 'spam-random', sampler: 'random', seed: 2, complete: 8, followups: false });
    dash = await startDashboard({ storage, port: 0, pollMs: 50 });
  });
  after(async () => {
    await dash.close();
    await storage.close();
  });

  it('binds 127.0.0.1 by default', () => {
    assert.equal(dash.host, '127.0.0.1');
    assert.ok(dash.url.startsWith('http://127.0.0.1:'));
    assert.ok(isLoopback('127.0.0.1') && isLoopback('localhost') && isLoopback('[::1]'));
    assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.4') && !isLoopback('example.com'));
  });

  it('is read-only: every method but GET/HEAD is refused and no request changes a study', async () => {
    const snapshot = async () =>
      JSON.stringify({
        studies: await storage.listStudies(),
        trials: await Promise.all((await storage.listStudies()).map((s) => storage.listTrials(s.name))),
      });
    const before = await snapshot();
    const paths = [
      '/',
      '/api/studies',
      '/api/studies/spam-bo',
      '/api/hypervolume?study=spam-bo',
      '/static/app.js',
      '/api/studies/spam-bo/trials/0',
    ];
    for (const path of paths)
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const r = await raw(dash, path, { method });
        assert.equal(r.status, 405, `${method} ${path}`);
        assert.equal(r.headers['allow'], 'GET, HEAD');
      }
    for (const path of paths) await raw(dash, path);
    assert.equal(await snapshot(), before);
  });

  it('serves static files only from its own folder (no path traversal)', async () => {
    const ok = await raw(dash, '/static/app.js');
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-type']), /^text\/javascript/);
    const source = readFileSync(new URL('./server.ts', import.meta.url), 'utf8');
    for (const path of [
      '/static/../server.ts',
      '/static/..%2fserver.ts',
      '/static/%2e%2e/server.ts',
      '/static/%2e%2e%2fserver.ts',
      '/static/app.js/../../server.ts',
      '/static//etc/passwd',
      '/static/..\\server.ts',
      '/static/%2fetc%2fpasswd',
      '/../../../../etc/passwd',
      '/static/',
    ]) {
      const r = await raw(dash, path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.body.includes(source.slice(0, 200)) && !r.body.includes('root:'), path);
    }
  });

  it('answers JSON as JSON with a strict content-security policy, and refuses foreign Host headers', async () => {
    const r = await raw(dash, '/api/studies/%3Cb%3Ex%3C%2Fb%3E');
    assert.equal(r.status, 404);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const page = await raw(dash, '/');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self';/);
    assert.ok(!/<script>/.test(page.body), 'no inline script in the page');
    const rebinding = await raw(dash, '/api/studies', { host: 'attacker.example:80' });
    assert.equal(rebinding.status, 421);
  });

  it('serves the chart library from the package (no CDN)', async () => {
    const r = await raw(dash, '/static/echarts.min.js');
    assert.equal(r.status, 200);
    assert.ok(r.body.length > 500_000);
    const page = await raw(dash, '/');
    assert.ok(!/https?:\/\//.test(page.body.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')));
  });

  it('lists studies and details one', async () => {
    const list = JSON.parse((await raw(dash, '/api/studies')).body) as { name: string; counts: { COMPLETE: number } }[];
    assert.deepEqual(
      list.map((s) => [s.name, s.counts.COMPLETE]),
      [
        ['spam-bo', 8],
        ['spam-random', 8],
      ],
    );
    const d = JSON.parse((await raw(dash, '/api/studies/spam-bo')).body) as {
      trials: unknown[];
      front: number[];
      hypervolumeHistory: { value: number }[];
    };
    assert.equal(d.trials.length, 11);
    assert.equal(d.hypervolumeHistory.length, 8);
    const hv = d.hypervolumeHistory.map((p) => p.value);
    assert.ok(
      hv.every((v, i) => i === 0 || v >= hv[i - 1]!),
      'hypervolume never decreases',
    );
  });

  it('pushes a change event when a trial is added', async () => {
    const ac = new AbortController();
    const res = await fetch(`${dash.url}api/events`, { signal: ac.signal });
    const reader = res.body!.getReader();
    let text = '';
    const read = async (until: RegExp) => {
      while (!until.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
    };
    await read(/event: hello/);
    await storage.createTrial('spam-random', { state: 'WAITING', config: { layer_0: true, sa: 8 } });
    await read(/event: change/);
    assert.match(text, /event: change\ndata: \{"studies":\["spam-random"\]\}/);
    ac.abort();
  });
});
