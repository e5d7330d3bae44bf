import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { memoryStorage, type Storage } from '../storage/index.js';
import { isLoopback, startDashboard, type Dashboard } from './server.js';
import { countCalls } from './testing/counting.js';
import { addCompleteTrial, buildStudy } from './testing/fixture.js';

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

/** An event-stream client: `next(re)` waits for `re` after what it matched before; `text()` is all read so far. */
async function listen(d: Dashboard) {
  const ac = new AbortController();
  const res = await fetch(`${d.url}api/events`, { signal: ac.signal });
  const reader = res.body!.getReader();
  let text = '';
  let from = 0;
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text += new TextDecoder().decode(value);
    }
  })().catch(() => undefined);
  const next = async (re: RegExp) => {
    for (let waited = 0; waited < 10_000; waited += 5) {
      const m = re.exec(text.slice(from));
      if (m) {
        from += m.index + m[0].length;
        return m[0];
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no ${re} in ${JSON.stringify(text.slice(from))}`);
  };
  return {
    next,
    text: () => text,
    close: async () => {
      ac.abort();
      await pump;
    },
  };
}

describe('dashboard reads', () => {
  it('polls study markers only, and reads a changed study once for all its browsers', async () => {
    const inner = memoryStorage();
    await buildStudy(inner, { name: 'live', complete: 6 });
    const { storage, calls, reset } = countCalls(inner);
    const dash = await startDashboard({ storage, port: 0, pollMs: 20 });
    try {
      const browsers = await Promise.all([1, 2, 3].map(() => listen(dash)));
      await Promise.all(browsers.map((b) => b.next(/event: hello/)));
      // Idle: the per-poll check is the marker query, never a read of the trials.
      reset();
      await new Promise((r) => setTimeout(r, 200));
      assert.ok((calls.studyMarkers ?? 0) >= 3, JSON.stringify(calls));
      assert.deepEqual(Object.keys(calls), ['studyMarkers']);
      // A trial finishes: each browser hears it and fetches the study; the study is read once.
      reset();
      await addCompleteTrial(inner, 'live', 1, 6);
      const bodies = await Promise.all(
        browsers.map(async (b) => {
          await b.next(/event: change\ndata: \{"studies":\["live"\]\}/);
          return (await raw(dash, '/api/studies/live')).body;
        }),
      );
      assert.equal((JSON.parse(bodies[0]!) as { trials: unknown[] }).trials.length, 10);
      assert.ok(bodies.every((b) => b === bodies[0]));
      assert.deepEqual([calls.findStudy, calls.listTrials], [1, 1]);
      // The study list and the overlay reuse that read.
      assert.equal(JSON.parse((await raw(dash, '/api/studies')).body).length, 1);
      await raw(dash, '/api/hypervolume?study=live');
      await raw(dash, '/api/hypervolume?study=live');
      assert.deepEqual([calls.findStudy, calls.listTrials], [1, 1]);
      for (const b of browsers) await b.close();
    } finally {
      await dash.close();
      await inner.close();
    }
  });

  it('never serves a stale study: a heartbeat sends no event but the next request sees it', async () => {
    const inner = memoryStorage();
    await buildStudy(inner, { name: 'hb', complete: 3 });
    const { storage, calls, reset } = countCalls(inner);
    const dash = await startDashboard({ storage, port: 0, pollMs: 20 });
    try {
      const b = await listen(dash);
      await b.next(/event: hello/);
      type T = { number: number; heartbeatAt?: number };
      const running = async () =>
        (JSON.parse((await raw(dash, '/api/studies/hb')).body) as { trials: T[] }).trials.find((t) => t.number === 4)!;
      const first = (await running()).heartbeatAt!;
      await raw(dash, '/api/studies/hb');
      reset();
      await new Promise((r) => setTimeout(r, 5));
      await inner.heartbeat('hb', 4);
      assert.ok((await running()).heartbeatAt! > first);
      assert.deepEqual([calls.findStudy, calls.listTrials], [1, 1]);
      // The heartbeat moved no progress marker: no change event went out, while a tell sends one.
      await new Promise((r) => setTimeout(r, 200));
      assert.doesNotMatch(b.text(), /event: change/);
      await inner.tellTrial('hb', 4, { state: 'FAILED', reason: 'x' });
      await b.next(/event: change\ndata: \{"studies":\["hb"\]\}/);
      await b.close();
    } finally {
      await dash.close();
      await inner.close();
    }
  });

  it('does not keep a failed read: the next request reads again', async () => {
    const inner = memoryStorage();
    await buildStudy(inner, { name: 'flaky', complete: 2 });
    let fail = true;
    const storage = new Proxy(inner, {
      get(target, key, receiver) {
        if (key === 'listTrials' && fail)
          return async () => {
            fail = false;
            throw new Error('database is locked');
          };
        const v = Reflect.get(target, key, receiver) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const dash = await startDashboard({ storage, port: 0 });
    try {
      assert.equal((await raw(dash, '/api/studies/flaky')).status, 500);
      const r = await raw(dash, '/api/studies/flaky');
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body) as { trials: unknown[] }).trials.length, 5);
      assert.equal((await raw(dash, '/api/studies/gone')).status, 404);
    } finally {
      await dash.close();
      await inner.close();
    }
  });
});
