/**
 * Progress output for long work. On a terminal: a live bar (cli-progress) on stderr. Elsewhere
 * (CI logs, pipes, `--json`): one plain line at most every few seconds, so logs stay readable.
 * stdout is left alone: it carries results (and the `--json` line).
 */
import cliProgress from 'cli-progress';

export interface ProgressBar {
  /** Sets the position (0..total) and the fields shown after the bar (e.g. loss, metric). */
  update(value: number, fields?: Record<string, string | number>): void;
  setTotal(total: number): void;
  /** Prints a line above the bar without breaking it. */
  log(line: string): void;
  stop(): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Render nothing but `log` lines (e.g. `--quiet`). */
  quiet?: boolean;
  stream?: NodeJS.WriteStream;
  /** Minimum seconds between plain-text updates when not on a TTY. */
  plainEverySec?: number;
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNum(v) : v}`)
    .join('  ');
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toPrecision(3);
}

export function fmtDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 1 : 0)}s`;
  const m = Math.floor(sec / 60);
  const s = Math.round(sec % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function createProgress(opts: ProgressOptions): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) {
    return { update() {}, setTotal() {}, log: (l) => stream.write(`${l}\n`), stop() {} };
  }
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${opts.label} {bar} {value}/{total} {percentage}% | eta {eta_formatted} | {fields}`,
        barsize: 24,
        hideCursor: true,
        stream,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, 0, { fields: '' });
    return {
      update: (v, fields) => bar.update(v, { fields: fields ? formatFields(fields) : '' }),
      setTotal: (t) => bar.setTotal(t),
      log: (line) => {
        // cli-progress has no "print above": clear the line, print, redraw.
        stream.write(`\r\x1b[2K${line}\n`);
        bar.render();
      },
      stop: () => bar.stop(),
    };
  }
  const every = (opts.plainEverySec ?? 10) * 1000;
  let total = opts.total;
  let last = 0;
  const t0 = Date.now();
  return {
    update(v, fields) {
      const now = Date.now();
      if (now - last < every && v < total) return;
      last = now;
      const el = (now - t0) / 1000;
      const eta = v > 0 ? (el * (total - v)) / v : NaN;
      stream.write(
        `${opts.label} ${v}/${total} (${Math.round((100 * v) / Math.max(total, 1))}%, ${fmtDuration(el)} elapsed, eta ${fmtDuration(eta)})${fields ? `  ${formatFields(fields)}` : ''}\n`,
      );
    },
    setTotal(t) {
      total = t;
    },
    log: (line) => stream.write(`${line}\n`),
    stop() {},
  };
}
