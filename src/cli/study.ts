/** Opening a search study for the commands that follow a search (report, retrain, baselines, transfer, export). */
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { openSqliteStorage } from '../storage/sqlite.js';
import { readSetup } from '../pipeline/attrs.js';

/** The study file (which must exist: opening would create it) and the study's search setup. */
export async function openStudy(flags: { study: string; storage: string }) {
  if (!existsSync(flags.storage))
    throw new UsageError(
      `--storage ${flags.storage} does not exist; run \`autopeft search\` first or point --storage at your study file`,
    );
  const storage = openSqliteStorage(flags.storage);
  try {
    const setup = readSetup(await storage.getStudy(flags.study));
    return { storage, setup };
  } catch (e) {
    await storage.close();
    throw e;
  }
}
