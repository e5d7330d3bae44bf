/**
 * A tiny keyword task for end-to-end tests (label 1 iff "good" occurs), written as a custom task
 * spec + TSV files, so the tests need no GLUE files and a tiny random BERT can learn a little.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeToyTask(root: string): string {
  const words = ['the', 'movie', 'film', 'was', 'bad', 'not', 'fun', 'story', 'plot', 'great', 'this', 'it'];
  const rows = (n: number, off: number) =>
    Array.from({ length: n }, (_, i) => {
      const k = i + off;
      const t = Array.from({ length: 3 + (k % 9) }, (_, j) => words[(k * 7 + j * 5) % words.length]!);
      if (k % 2) t[k % t.length] = 'good';
      return `${t.join(' ')}\t${k % 2}`;
    });
  writeFileSync(join(root, 'train.tsv'), `${['sentence\tlabel', ...rows(160, 0)].join('\n')}\n`);
  writeFileSync(join(root, 'dev.tsv'), `${['sentence\tlabel', ...rows(40, 1000)].join('\n')}\n`);
  const spec = join(root, 'toy.json');
  writeFileSync(
    spec,
    JSON.stringify({
      name: 'toy',
      format: 'tsv',
      files: { train: 'train.tsv', dev: 'dev.tsv' },
      textColumns: ['sentence'],
      labelColumn: 'label',
      labels: ['0', '1'],
      metrics: ['accuracy'],
    }),
  );
  return spec;
}
