// Rig services must not outlive the Node process that started them, even when
// it is killed (test timeouts, Ctrl-C): a /bin/sh wrapper holds our stdin pipe
// and kills the service when that pipe closes, which the kernel does for us.
import { type ChildProcess, spawn } from 'node:child_process';

// $0 is the binary; fd 3 keeps our pipe, since background jobs get /dev/null as stdin.
const WRAPPER = [
  'exec 3<&0',
  '"$0" "$@" </dev/null &',
  'pid=$!',
  '(read -r _ <&3; kill "$pid") >/dev/null 2>&1 &',
  'wait "$pid"',
].join('\n');

/** Exit code of the wrapper when the binary cannot be run. */
export const NOT_FOUND_EXIT = 127;

export function spawnTied(
  binary: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): ChildProcess {
  const child = spawn('/bin/sh', ['-c', WRAPPER, binary, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so a stuck service can be killed with its wrapper
  });
  child.stdin!.on('error', () => {}); // EPIPE once the wrapper is gone: nothing left to stop
  return child;
}

/** Closes the pipe (the wrapper then sends SIGTERM), and kills the group if it is still there after `timeoutMs`. */
export async function stopTied(child: ChildProcess, closed: Promise<void>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  }, timeoutMs);
  await closed;
  clearTimeout(timer);
}
