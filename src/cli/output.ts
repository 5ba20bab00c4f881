// How the CLI talks: progress as plain lines (on a terminal's stderr, on
// stdout otherwise), and with --json exactly one JSON document on stdout.
// No spinner: a redrawn line depends on the terminal reporting its width, and
// one that reports 0 columns (script, some docker exec and CI terminals) made
// the spinner redraw forever. Lines, as certbot and lego print them, work on
// every terminal and stay readable in scrollback and logs.
import { isoTime } from '../engine/index.ts';

export interface OutputOptions {
  json: boolean;
  /** With --debug, progress lines say how long after start they came. */
  timestamps?: boolean;
  /** Nothing but errors (renew --quiet, for timers): no progress, notes or results. */
  quiet?: boolean;
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly #timestamps: boolean;

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.quiet = options.quiet === true;
    this.#timestamps = options.timestamps === true;
  }

  /**
   * Progress while work runs: lines on a terminal's stderr, on stdout otherwise,
   * so that a redirected stderr carries only the error line. Never in --json.
   */
  progress = (text: string): void => {
    if (this.json || this.quiet) return;
    const message = this.#timestamps ? `[${performance.now().toFixed(0)} ms] ${text}` : text;
    if (process.stderr.isTTY) process.stderr.write(`… ${message}\n`);
    else process.stdout.write(`${message}\n`);
  };

  /** The command's result: a JSON document with --json, the human lines otherwise (none with --quiet). */
  result(document: unknown, human: string | string[]): void {
    if (this.json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    else if (!this.quiet) process.stdout.write(`${Array.isArray(human) ? human.join('\n') : human}\n`);
  }

  /** A result that reports a failure: shown even with --quiet. */
  failure(document: unknown, human: string[]): void {
    if (this.json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    else process.stdout.write(`${human.join('\n')}\n`);
  }

  /** A notice for a human that is not part of the result, on stderr. */
  note = (message: string): void => {
    if (!this.json && !this.quiet) process.stderr.write(`${message}\n`);
  };
}

export function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

export function isoOrDash(ms: number | null | undefined): string {
  return ms ? isoTime(ms) : '-';
}
