/**
 * Worker for the two-process test (two-process.test.ts): loops ask/tell on one SQLite file.
 * Usage: node --import tsx two-process.worker.ts <db file> <worker id> <asks> <barrier dir>
 * Prints one JSON line: {"worker":…, "asked":[numbers], "claimedIds":[enqueued ids], "failed":[numbers]}.
 *
 * With <asks> = "hang": asks one trial with a 20 ms heartbeat, prints {"worker":…, "trial":n}, then
 * runs forever (the test kills it with SIGKILL, like a crashed trainer).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStorage } from '../../storage/sqlite.js';
import { createStudy } from './study.js';
import { countingSampler, TWO_PROCESS_OBJECTIVES } from './testing.js';

async function main(): Promise<void> {
  const [file, worker, asksArg, barrier] = process.argv.slice(2);
  if (!file || !worker || !asksArg || !barrier)
    throw new Error('usage: two-process.worker.ts <db> <worker> <asks> <barrier dir>');
  const storage = openSqliteStorage(file);
  if (asksArg === 'hang') {
    const study = await createStudy({
      storage,
      name: 'duo',
      objectives: TWO_PROCESS_OBJECTIVES,
      sampler: countingSampler(9, 'hang-'),
      workerId: worker,
      loadIfExists: true,
      heartbeat: { intervalMs: 20 },
    });
    const t = await study.ask();
    process.stdout.write(`${JSON.stringify({ worker, trial: t.number })}\n`);
    // Keep the event loop (and so the heartbeat timer) alive until killed.
    setInterval(() => undefined, 1000);
    return;
  }
  const asks = Number(asksArg);
  const study = await createStudy({
    storage,
    name: 'duo',
    objectives: TWO_PROCESS_OBJECTIVES,
    sampler: countingSampler(worker.length, `${worker}-`),
    workerId: worker,
    loadIfExists: true,
  });
  // Start together: announce readiness, wait for the parent's go.
  writeFileSync(join(barrier, `ready-${worker}`), '');
  while (!existsSync(join(barrier, 'go'))) await new Promise((r) => setTimeout(r, 5));

  const asked: number[] = [];
  const claimedIds: number[] = [];
  const failed: number[] = [];
  while (asked.length < asks) {
    // Mix single asks and batches so both claim paths race.
    const batch = asked.length % 3 === 0 ? await study.askBatch(Math.min(2, asks - asked.length)) : [await study.ask()];
    for (const t of batch) {
      asked.push(t.number);
      if (typeof t.config.id === 'number') claimedIds.push(t.config.id);
      await study.setTrialUserAttr(t.number, 'by', worker);
      if (t.number % 7 === 3) {
        await study.tell(t.number, { state: 'FAILED', reason: `synthetic failure in ${worker}` });
        failed.push(t.number);
      } else {
        await study.tell(t.number, [Number(t.config.x) / 100]);
      }
    }
  }
  await study.close();
  await storage.close();
  process.stdout.write(`${JSON.stringify({ worker, asked, claimedIds, failed })}\n`);
}

await main();
