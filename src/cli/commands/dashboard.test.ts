import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { openSqliteStorage } from '../../storage/index.js';
import { buildStudy } from '../../dashboard/testing/fixture.js';
import { runCli } from '../testing.js';
import { openDashboard } from './dashboard.js';

const sink = () => {
  let text = '';
  const w = new Writable({
    write(c: Buffer | string, _e, cb) {
      text += c.toString();
      cb();
    },
  });
  return { w, text: () => text };
};

describe('autopeft dashboard', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autopeft-dash-cli-'));
  const file = join(dir, 'studies.sqlite');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a missing storage file (it would create it) and a bad port, exit 2', async () => {
    const missing = await runCli(['dashboard', '--storage', join(dir, 'nope.sqlite')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^autopeft: --storage .*nope\.sqlite does not exist; run `autopeft search` first/);
    assert.ok(!existsSync(join(dir, 'nope.sqlite')));
    const s = openSqliteStorage(file);
    await buildStudy(s, { complete: 3, followups: false });
    await s.close();
    const port = await runCli(['dashboard', '--storage', file, '--port', '80a']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /^autopeft: --port must be an integer from 0 to 65535; got "80a"\n$/);
  });

  it('binds 127.0.0.1 quietly by default and warns when --host exposes it to the network', async () => {
    const quiet = sink();
    const local = await openDashboard(
      { storage: file, port: '0', host: '127.0.0.1' },
      { stdout: quiet.w, stderr: quiet.w },
    );
    assert.equal(local.host, '127.0.0.1');
    const r = await fetch(`${local.url}api/studies`);
    assert.equal(((await r.json()) as unknown[]).length, 1);
    await local.close();
    assert.equal(quiet.text(), '');
    const loud = sink();
    const open = await openDashboard({ storage: file, port: '0', host: '0.0.0.0' }, { stdout: loud.w, stderr: loud.w });
    assert.equal(open.host, '0.0.0.0');
    await open.close();
    assert.match(
      loud.text(),
      /^autopeft: warning: --host 0\.0\.0\.0 makes the dashboard reachable from other machines/,
    );
  });
});
