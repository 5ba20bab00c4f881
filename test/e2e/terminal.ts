// certkeep on a real terminal: util-linux `script` gives the command a pty
// (stdin, stdout and stderr all TTYs), sized as the test asks — 0 columns is
// what some containers and CI terminals report. Bytes written to the handle's
// stdin reach the pty as keystrokes: "\x03" is a real Ctrl-C, turned into
// SIGINT for the foreground process group by the terminal's line discipline.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../rig/tmp.ts';

const CLI = new URL('../../src/main.ts', import.meta.url).pathname;

export interface TerminalRun {
  /** Everything the terminal showed so far (stdout and stderr interleaved, as on a screen). */
  screen(): string;
  /** The certkeep process's pid (the shell execs it, so it is the shell's). */
  pid(): Promise<number>;
  /** Types on the keyboard. */
  type(keys: string): void;
  /** Resolves with certkeep's exit status (`script -e` passes it on) once the terminal closed. */
  exited: Promise<number | null>;
  kill(): void;
}

/** Runs `certkeep ARGS` on a fresh pty of `columns` × 24. */
export async function runOnTerminal(args: string[], env: Record<string, string>, columns: number): Promise<TerminalRun> {
  const scratch = await tempDir('certkeep-pty-');
  const pidFile = join(scratch.path, 'pid');
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  const script = `stty cols ${columns} rows 24; echo $$ > ${shellQuote(pidFile)}; exec ${command}`;
  const child: ChildProcessWithoutNullStreams = spawn('script', ['-q', '-e', '-c', script, '/dev/null'], {
    env: { ...process.env, ...env, TERM: 'xterm' },
    stdio: 'pipe',
  });
  let screen = '';
  child.stdout.on('data', (chunk) => {
    // Bounded: a runaway redraw must fail the test, not fill the memory.
    if (screen.length < 4_000_000) screen += chunk;
  });
  child.stderr.on('data', (chunk) => (screen += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))).finally(() => scratch.remove());
  return {
    screen: () => screen,
    async pid() {
      for (;;) {
        const text = await readFile(pidFile, 'utf8').catch(() => '');
        if (text.trim()) return Number(text.trim());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    type: (keys) => child.stdin.write(keys),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
