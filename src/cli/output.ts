// How the CLI talks: a spinner on a terminal, plain lines otherwise, and with
// --json exactly one JSON document on stdout.
import type { Ora } from 'ora';
import { isoTime } from '../engine/index.ts';

// ora (and what it pulls in) loads only when a terminal will show the spinner.
const spinnerFactory = process.stderr.isTTY ? (await import('ora')).default : undefined;

export class Output {
  readonly json: boolean;
  readonly #timestamps: boolean;
  #spinner: Ora | undefined;

  /** With `timestamps` (--debug), progress lines say how long after start they came. */
  constructor(json: boolean, timestamps = false) {
    this.json = json;
    this.#timestamps = timestamps;
  }

  /**
   * Progress while work runs: a spinner on a terminal's stderr, plain lines on
   * stdout otherwise, so that stderr carries only the error line. Never in --json.
   */
  progress = (text: string): void => {
    if (this.json) return;
    const message = this.#timestamps ? `[${performance.now().toFixed(0)} ms] ${text}` : text;
    if (process.stderr.isTTY) {
      if (this.#spinner) this.#spinner.text = message;
      else if (spinnerFactory) this.#spinner = spinnerFactory({ text: message, stream: process.stderr }).start();
    } else {
      process.stdout.write(`${message}\n`);
    }
  };

  stopProgress(): void {
    this.#spinner?.stop();
    this.#spinner = undefined;
  }

  /** The command's result: a JSON document with --json, the human lines otherwise. */
  result(document: unknown, human: string | string[]): void {
    this.stopProgress();
    if (this.json) process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    else process.stdout.write(`${Array.isArray(human) ? human.join('\n') : human}\n`);
  }

  /** A notice for a human that is not part of the result. */
  note(message: string): void {
    if (!this.json) process.stderr.write(`${message}\n`);
  }
}

export function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd());
}

export function isoOrDash(ms: number | null | undefined): string {
  return ms ? isoTime(ms) : '-';
}
