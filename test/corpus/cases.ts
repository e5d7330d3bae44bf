/**
 * The bad-input corpus: each case writes its fixtures into a fresh folder (the CLI's working
 * folder), names the command to run there and what the one stderr line must say. Every case must
 * end with exit 2, exactly one line `autopeft: ...` naming the file/flag/key, no stack trace, and
 * no file written or changed outside `mayWrite` (see corpus.test.ts). Cases are chosen to fail
 * before any model is trained, so the whole table runs in well under two minutes on two cores.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeToyTask } from '../helpers/toy-task.js';

export interface Fixture {
  /** The case's working folder (the CLI runs there). */
  dir: string;
  /** A complete tiny BERT checkpoint folder to copy from. */
  tiny: string;
  /** Loopback hub endpoint (see corpus.test.ts). */
  hub: string;
  /** An autopeft study database (study "x", 200 trials) whose pages past the header are scrambled. */
  damagedDb: string;
}

export interface Case {
  name: string;
  group: 'data' | 'spec' | 'checkpoint' | 'hub' | 'flags' | 'peft' | 'config' | 'storage';
  /** Writes fixtures into f.dir; returns the CLI arguments. */
  setup(f: Fixture): string[];
  /** What the single stderr line must match (after `autopeft: `). */
  line: RegExp;
  /** Paths (relative to the case folder) the command may create or change. */
  mayWrite?: readonly string[];
  env?: Record<string, string>;
}

/** The toy task (spec + TSV files) in the case folder, with `edit` applied to the spec. */
function toy(f: Fixture, edit: (spec: Record<string, unknown>) => void = () => {}): string {
  const spec = writeToyTask(f.dir);
  const s = JSON.parse(readFileSync(spec, 'utf8')) as Record<string, unknown>;
  edit(s);
  writeFileSync(spec, JSON.stringify(s));
  return 'toy.json';
}

const search = (...args: string[]): string[] => ['search', '--storage', 's.sqlite', '--trials', '1', ...args];
const train = (...args: string[]): string[] => ['train', '--max-steps', '1', ...args];

/** A search of the toy task whose train file is replaced by `content`. */
function dataCase(name: string, content: string | Buffer, line: RegExp, file = 'train.tsv'): Case {
  return {
    name,
    group: 'data',
    setup: (f) => {
      const spec = toy(f);
      writeFileSync(join(f.dir, file), content);
      return search('--task', spec, '--model', f.tiny);
    },
    line,
  };
}

/** A copy of the tiny checkpoint as `ck/`, with `edit` applied to its folder. */
function checkpointCase(name: string, edit: (dir: string) => void, line: RegExp): Case {
  return {
    name,
    group: 'checkpoint',
    setup: (f) => {
      const ck = join(f.dir, 'ck');
      cpSync(f.tiny, ck, { recursive: true });
      edit(ck);
      return search('--task', toy(f), '--model', 'ck');
    },
    line,
  };
}

/** The safetensors header and data section of a file, to rewrite either. */
function readSafetensors(path: string): { header: Record<string, unknown>; data: Buffer } {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  return {
    header: JSON.parse(buf.subarray(8, 8 + n).toString()) as Record<string, unknown>,
    data: buf.subarray(8 + n),
  };
}

function writeSafetensors(path: string, header: Record<string, unknown>, data: Buffer): void {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  writeFileSync(path, Buffer.concat([len, h, data]));
}

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };

/** Applies `edit` to the first F32 2-D tensor's header entry of ck/model.safetensors. */
function editTensor(edit: (e: Entry, header: Record<string, unknown>, data: Buffer) => Buffer | undefined) {
  return (dir: string) => {
    const p = join(dir, 'model.safetensors');
    const { header, data } = readSafetensors(p);
    const name = Object.keys(header).find((k) => k !== '__metadata__' && (header[k] as Entry).shape.length === 2)!;
    const out = edit(header[name] as Entry, header, data) ?? data;
    writeSafetensors(p, header, out);
  };
}

const SAFE = /model\.safetensors/;

export const CASES: readonly Case[] = [
  // ---- data files ----
  dataCase('train: header only', 'sentence\tlabel\n', /train\.tsv: the training split has no rows/),
  dataCase('train: empty file', '', /train\.tsv/),
  dataCase('train: unknown label', 'sentence\tlabel\ngood film\t7\nbad film\t0\n', /train\.tsv.*7/),
  dataCase(
    'train: label with an escape sequence and 500 characters (quoted as a short escaped excerpt)',
    `sentence\tlabel\ngood film\t\x1b[2J${'z'.repeat(500)}\n`,
    /train\.tsv.*label "\\x1b\[2Jz{56}\.\.\." is not one of/,
  ),
  dataCase('train: missing label column', 'sentence\tscore\ngood\t1\n', /train\.tsv.*label/),
  dataCase('train: missing text column', 'text\tlabel\ngood\t1\n', /train\.tsv.*sentence/),
  dataCase(
    'train: UTF-16 with BOM',
    Buffer.from('\ufeffsentence\tlabel\ngood\t1\n', 'utf16le'),
    /train\.tsv.*UTF-16 encoded.*save it as UTF-8/,
  ),
  dataCase(
    'train: binary garbage',
    Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 7, 8, 0x1b, 0x5b, 0x32, 0x4a]),
    /train\.tsv.*NUL/,
  ),
  dataCase('train: 1 MB single line', `sentence\tlabel\n${'x'.repeat(1 << 20)}`, /train\.tsv/),
  dataCase('train: ragged row', 'sentence\tlabel\ngood\t1\textra\tcols\n', /train\.tsv/),
  dataCase('dev: header only', 'sentence\tlabel\n', /dev\.tsv/, 'dev.tsv'),
  dataCase('dev: unknown label', 'sentence\tlabel\nok\tmaybe\n', /dev\.tsv.*maybe/, 'dev.tsv'),
  {
    name: 'data: missing folder',
    group: 'data',
    setup: (f) => search('--task', 'sst2', '--data', 'no-such-dir', '--model', f.tiny),
    line: /no-such-dir.*not found/,
  },
  {
    name: 'data: GLUE task, folder without its files',
    group: 'data',
    setup: (f) => {
      mkdirSync(join(f.dir, 'empty'));
      return search('--task', 'sst2', '--data', 'empty', '--model', f.tiny);
    },
    line: /empty/,
  },
  {
    name: 'data: train file is a folder',
    group: 'data',
    setup: (f) => {
      const spec = toy(f, (s) => (s['files'] = { train: 'sub', dev: 'dev.tsv' }));
      mkdirSync(join(f.dir, 'sub'));
      return search('--task', spec, '--model', f.tiny);
    },
    line: /sub/,
  },
  // ---- task specs ----
  ...(
    [
      ['spec: not JSON', '{name: toy', /toy\.json/],
      ['spec: an array', '[1,2]', /toy\.json/],
      ['spec: unknown format', { format: 'xlsx' }, /toy\.json.*format/],
      ['spec: unknown metric', { metrics: ['bleu'] }, /toy\.json.*metrics/],
      ['spec: no text columns', { textColumns: [] }, /toy\.json.*textColumns/],
      ['spec: three text columns', { textColumns: ['a', 'b', 'c'] }, /toy\.json.*textColumns/],
      ['spec: one label', { labels: ['0'] }, /toy\.json.*labels/],
      ['spec: missing files', { files: undefined }, /toy\.json.*files/],
      ['spec: train file missing', { files: { train: 'nope.tsv', dev: 'dev.tsv' } }, /nope\.tsv/],
      ['spec: file outside as absolute path to nothing', { files: { train: '/nonexistent/t.tsv' } }, /t\.tsv/],
    ] as const
  ).map(
    ([name, edit, line]): Case => ({
      name,
      group: 'spec',
      setup: (f) => {
        const spec = toy(f);
        if (typeof edit === 'string') writeFileSync(join(f.dir, spec), edit);
        else {
          const s = JSON.parse(readFileSync(join(f.dir, spec), 'utf8')) as Record<string, unknown>;
          Object.assign(s, edit);
          writeFileSync(join(f.dir, spec), JSON.stringify(s));
        }
        return search('--task', spec, '--model', f.tiny);
      },
      line,
    }),
  ),
  {
    name: 'spec: unknown task name',
    group: 'spec',
    setup: () => search('--task', 'sst3'),
    line: /sst3/,
  },
  // ---- checkpoints ----
  checkpointCase(
    'checkpoint: truncated safetensors',
    (d) => {
      const p = join(d, 'model.safetensors');
      const b = readFileSync(p);
      writeFileSync(p, b.subarray(0, b.length - 100));
    },
    SAFE,
  ),
  checkpointCase(
    'checkpoint: header length past the end',
    (d) => {
      const p = join(d, 'model.safetensors');
      const b = readFileSync(p);
      b.writeBigUInt64LE(BigInt(b.length * 4), 0);
      writeFileSync(p, b);
    },
    SAFE,
  ),
  checkpointCase(
    'checkpoint: header length 2^60',
    (d) => {
      const p = join(d, 'model.safetensors');
      const b = readFileSync(p);
      b.writeBigUInt64LE(1n << 60n, 0);
      writeFileSync(p, b);
    },
    SAFE,
  ),
  checkpointCase('checkpoint: 4-byte file', (d) => writeFileSync(join(d, 'model.safetensors'), 'abcd'), SAFE),
  checkpointCase(
    'checkpoint: header not JSON',
    (d) => {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(5n);
      writeFileSync(join(d, 'model.safetensors'), Buffer.concat([len, Buffer.from('{{{{{')]));
    },
    SAFE,
  ),
  checkpointCase(
    'checkpoint: overlapping offsets',
    editTensor((e, h) => {
      const other = Object.entries(h).find(([k, v]) => k !== '__metadata__' && v !== e)![1] as Entry;
      e.data_offsets = [other.data_offsets[0], other.data_offsets[0] + (e.data_offsets[1] - e.data_offsets[0])];
    }),
    SAFE,
  ),
  checkpointCase(
    'checkpoint: unsupported dtype',
    editTensor((e) => {
      e.dtype = 'C64';
    }),
    SAFE,
  ),
  checkpointCase(
    'checkpoint: shape does not match bytes',
    editTensor((e) => {
      e.shape = [e.shape[0]! + 1, e.shape[1]!];
    }),
    SAFE,
  ),
  checkpointCase(
    'checkpoint: offsets past the data',
    editTensor((e, _h, data) => {
      e.data_offsets = [data.length - 4, data.length + 1000];
    }),
    SAFE,
  ),
  checkpointCase(
    'checkpoint: NaN weight',
    editTensor((e, _h, data) => {
      const out = Buffer.from(data);
      out.writeFloatLE(Number.NaN, e.data_offsets[0] + 4);
      return out;
    }),
    /non-finite|NaN/,
  ),
  checkpointCase('checkpoint: config.json not JSON', (d) => writeFileSync(join(d, 'config.json'), '{'), /config\.json/),
  checkpointCase(
    'checkpoint: config.json missing hidden_size',
    (d) => {
      const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
      delete c['hidden_size'];
      writeFileSync(join(d, 'config.json'), JSON.stringify(c));
    },
    /config\.json.*hidden_size/,
  ),
  checkpointCase(
    'checkpoint: unsupported model_type',
    (d) => {
      const c = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as Record<string, unknown>;
      c['model_type'] = 'gpt2';
      writeFileSync(join(d, 'config.json'), JSON.stringify(c));
    },
    /gpt2/,
  ),
  checkpointCase(
    'checkpoint: no tokenizer files',
    (d) => {
      rmSync(join(d, 'vocab.txt'), { force: true });
      rmSync(join(d, 'tokenizer.json'), { force: true });
    },
    /vocab\.txt|tokenizer/,
  ),
  {
    name: 'checkpoint: no such folder or hub id',
    group: 'checkpoint',
    setup: (f) => search('--task', toy(f), '--model', './nope'),
    line: /\.\/nope: no such checkpoint folder/,
  },
  // ---- hub responses (loopback server, see corpus.test.ts) ----
  ...(
    [
      ['hub: X-Repo-Commit is a path', 'org/evil-commit', /X-Repo-Commit/],
      ['hub: shard name escapes the repo', 'org/evil-shard', /names shard/],
      ['hub: bytes do not match the ETag', 'org/tampered', /do not match/],
      ['hub: unknown model', 'org/missing', /org\/missing: no local folder/],
      ['hub: no weights', 'org/no-weights', /no model\.safetensors/],
    ] as const
  ).map(
    ([name, id, line]): Case => ({
      name,
      group: 'hub',
      setup: (f) => search('--task', toy(f), '--model', id),
      line,
      env: { HF_HUB_CACHE: 'cache' },
      mayWrite: ['cache'],
    }),
  ),
  {
    name: 'hub: offline and not cached',
    group: 'hub',
    setup: (f) => search('--task', toy(f), '--model', 'org/absent'),
    line: /org\/absent \(revision main\) is not in the hub cache/,
    env: { HF_HUB_CACHE: 'cache', HF_HUB_OFFLINE: '1' },
  },
  // ---- flags ----
  ...(
    [
      ['--trials', '0x10'],
      ['--trials', '0'],
      ['--trials', '-1'],
      ['--trials', ''],
      ['--n-init', '1.5'],
      ['--batch-size', '0'],
      ['--max-length', '2'],
      ['--epochs', 'three'],
      ['--workers', '-1'],
      ['--threads', '0'],
      ['--lr', '-1'],
      ['--lr', 'NaN'],
      ['--train-limit', '1.5'],
      ['--study', '../../../x'],
      ['--study', '<img src=x>'],
      ['--sampler', 'annealing'],
    ] as const
  ).map(
    ([flag, value]): Case => ({
      name: `flag: ${flag} ${JSON.stringify(value)}`,
      group: 'flags',
      setup: () => search('--task', 'rte', flag, value),
      line: new RegExp(`^${flag.replace(/[-]/g, '\\-')} must be `),
    }),
  ),
  {
    name: 'flag: unknown option, with a suggestion',
    group: 'flags',
    setup: () => ['search', '--trails', '3'],
    line: /^unknown option '--trails' \(did you mean --trials\?\); run with --help for usage$/,
  },
  {
    name: 'flag: unknown command',
    group: 'flags',
    setup: () => ['serch', '--task', 'rte'],
    line: /^unknown command 'serch' \(did you mean search\?\); run with --help for usage$/,
  },
  {
    name: 'flag: option without its value',
    group: 'flags',
    setup: () => ['search', '--task'],
    line: /^option '--task <name\|spec\.json>' argument missing; run with --help for usage$/,
  },
  {
    name: 'flag: train --out at an existing file (checked before training)',
    group: 'flags',
    setup: (f) => {
      writeFileSync(join(f.dir, 'adapter.bin'), 'mine');
      return train('--task', toy(f), '--model', f.tiny, '--out', 'adapter.bin');
    },
    line: /^--out adapter\.bin is a file, not a folder/,
  },
  {
    name: 'flag: train --out through a file',
    group: 'flags',
    setup: (f) => {
      writeFileSync(join(f.dir, 'plain'), 'mine');
      return train('--task', toy(f), '--model', f.tiny, '--out', 'plain/adapter');
    },
    line: /^--out plain\/adapter runs through .*plain, which is a file/,
  },
  {
    name: 'flag: export --out at an existing file',
    group: 'flags',
    setup: (f) => {
      writeFileSync(join(f.dir, 'out.onnx'), 'mine');
      return ['export', '--adapter', 'none', '--out', 'out.onnx'];
    },
    line: /^--out out\.onnx is a file, not a folder/,
  },
  // ---- --peft ----
  ...(
    [
      ['[16]', /--peft/],
      ['{"sa":', /--peft/],
      ['{"sa":-1}', /--peft.*sa/],
      ['{"sa":"big"}', /--peft.*sa/],
      ['{"zz":1}', /--peft.*zz/],
      ['{"layers":"some"}', /--peft.*layers/],
      ['{"sa":0,"pa":0,"pt":0}', /trains nothing|no PEFT|switch on/],
    ] as const
  ).map(
    ([peft, line]): Case => ({
      name: `peft: ${peft}`,
      group: 'peft',
      setup: (f) => train('--task', toy(f), '--model', f.tiny, '--peft', peft),
      line,
    }),
  ),
  // ---- config files ----
  ...(
    [
      ['c.yaml', 'task: rte\nlr: -1\n', /c\.yaml: "lr" must be a positive number/],
      ['c.yaml', 'task: rte\nbatchSize: 0\n', /c\.yaml: "batchSize" must be/],
      ['c.json', '{"task":"rte","maxLength":0}', /c\.json: "maxLength" must be/],
      ['c.json', '{"task":"rte","epochs":0}', /c\.json: "epochs" must be/],
      ['c.yaml', 'task: rte\nmaxSteps: 0\n', /c\.yaml: "maxSteps" must be/],
      ['c.yaml', 'task: rte\nworkers: -1\n', /c\.yaml: "workers" must be/],
      ['c.yaml', 'task: rte\nnInit: 0\n', /c\.yaml: "nInit" must be/],
      ['c.yaml', 'task: rte\nthreads: 0\n', /c\.yaml: "threads" must be/],
      ['c.yaml', 'task: rte\npatience: 0\n', /c\.yaml: "patience" must be/],
      ['c.yaml', 'task: rte\nstudy: ../../x\n', /c\.yaml: "study" must be a name/],
      ['c.yaml', 'task: [\n', /c\.yaml: not valid YAML/],
      ['c.json', '[1]', /c\.json: expected a mapping/],
      ['c.json', '{"tsk":"rte"}', /c\.json: unknown option "tsk"/],
    ] as const
  ).map(
    ([file, text, line]): Case => ({
      name: `config: ${file} ${text.replace(/\n/g, ' ').trim()}`,
      group: 'config',
      setup: (f) => {
        writeFileSync(join(f.dir, file), text);
        return ['search', '--config', file, '--storage', 's.sqlite'];
      },
      line,
    }),
  ),
  {
    name: 'config: missing file',
    group: 'config',
    setup: () => ['search', '--config', 'none.yaml'],
    line: /--config: none\.yaml does not exist/,
  },
  // ---- storage files ----
  ...(
    [
      ['storage: a folder', (d: string) => mkdirSync(join(d, 'db')), 'db', /db is a folder/],
      ['storage: under a regular file', (d: string) => writeFileSync(join(d, 'f'), 'x'), 'f/s.sqlite', /f is a file/],
      ['storage: empty path', () => {}, '', /--storage must be/],
      [
        'storage: not a database',
        (d: string) => writeFileSync(join(d, 'x.sqlite'), 'hello world'.repeat(100)),
        'x.sqlite',
        /x\.sqlite is not an autopeft study database/,
      ],
      [
        'storage: scrambled sqlite',
        (d: string) =>
          writeFileSync(
            join(d, 'x.sqlite'),
            Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4096, 0xa5)]),
          ),
        'x.sqlite',
        /x\.sqlite/,
      ],
      ['report: storage missing', () => {}, 'missing.sqlite', /--storage missing\.sqlite does not exist/],
      [
        'report: pages scrambled past the header',
        (d: string, f?: Fixture) => cpSync(f!.damagedDb, join(d, 'x.sqlite')),
        'x.sqlite',
        /x\.sqlite is damaged \(database disk image is malformed\); restore it from a backup/,
      ],
    ] as const
  ).map(
    ([name, make, storage, line]): Case => ({
      name,
      group: 'storage',
      setup: (f) => {
        make(f.dir, f);
        const spec = toy(f);
        return name.startsWith('report')
          ? ['report', '--study', 'x', '--storage', storage]
          : ['search', '--task', spec, '--model', f.tiny, '--trials', '1', '--storage', storage];
      },
      line,
    }),
  ),
];
