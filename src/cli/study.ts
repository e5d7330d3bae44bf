/** Opening a search study for the commands that follow a search (report, retrain, baselines, transfer, export). */
import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { openStorage, storageFile } from '../storage/index.js';
import { readSetup } from '../pipeline/attrs.js';

/** The study storage (a file must exist: opening would create it) and the study's search setup. */
export async function openStudy(flags: { study: string; storage: string }) {
  const file = storageFile(flags.storage);
  if (file !== undefined && !existsSync(file))
    throw new UsageError(
      `--storage ${flags.storage} does not exist; run \`autopeft search\` first or point --storage at your study file`,
    );
  const storage = openStorage(flags.storage);
  try {
    const setup = readSetup(await storage.getStudy(flags.study));
    return { storage, setup };
  } catch (e) {
    await storage.close();
    throw e;
  }
}
