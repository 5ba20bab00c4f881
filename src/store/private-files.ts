// The embedded database holds challenge keys, e-mail addresses and webhook URLs:
// its files are the owner's alone (0600), even in a data directory others may
// read. SQLite creates the -wal and -shm files with the mode of the database
// file, so the database file is created 0600 before SQLite opens it, and files
// an older version left readable are narrowed.
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';

const PRIVATE = 0o600;

export function makeDatabaseFilesPrivate(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE));
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (existsSync(file)) chmodSync(file, PRIVATE);
  }
}
