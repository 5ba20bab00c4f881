// --owner USER[:GROUP] resolved through the host's name service (getent reads /etc/passwd, LDAP,
// systemd-userdb… as configured), so names mean what `chown` would make of them.
import { execFile } from 'node:child_process';

export interface Ownership {
  uid: number;
  /** -1 keeps the group, as `chown USER` does. */
  gid: number;
}

export type OwnerResolution = { ok: true; owner: Ownership } | { ok: false; reason: string };

export async function resolveOwner(owner: string): Promise<OwnerResolution> {
  const [user, group] = owner.split(':');
  const uid = await lookupId('passwd', user);
  if (uid === undefined)
    return { ok: false, reason: `owner: no user "${user}" on this host (getent passwd ${user})` };
  if (group === undefined) return { ok: true, owner: { uid, gid: -1 } };
  const gid = await lookupId('group', group);
  if (gid === undefined)
    return { ok: false, reason: `owner: no group "${group}" on this host (getent group ${group})` };
  return { ok: true, owner: { uid, gid } };
}

/** The numeric id of a user or group name; a number is taken as it is. */
async function lookupId(database: 'passwd' | 'group', name: string): Promise<number | undefined> {
  if (/^\d+$/.test(name)) return Number(name);
  const line = await getent(database, name);
  const id = line?.split(':')[2];
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined;
}

function getent(database: string, key: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('getent', [database, key], { encoding: 'utf8', timeout: 10_000 }, (error, stdout) => {
      resolve(error ? undefined : stdout.split('\n')[0]);
    });
  });
}
