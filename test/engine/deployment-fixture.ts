// A store with certificates whose versions are real chains and keys (made with openssl by the
// deploy tests' CA), stored as issuance stores them: the starting point of the engine's deployment
// tests. `renew` stores a new current version, as a finished order does.
import { after, before } from 'node:test';
import type { EngineContext } from '../../src/engine/context.ts';
import { createEngineContext } from '../../src/engine/context.ts';
import { pfxPasswordAad } from '../../src/engine/files.ts';
import { versionKeyAad } from '../../src/engine/issuance.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { newId } from '../../src/store/ids.ts';
import {
  type CertificateRow,
  findCertificate,
  insertCertificate,
  insertVersion,
  UNTOUCHED_RENEWAL_STATE,
  makeVersionCurrent,
} from '../../src/store/repositories/certificates.ts';
import { DEFAULT_SUBSCRIPTION_ID, ensureSubscription } from '../../src/store/repositories/subscriptions.ts';
import type { Clock } from '../../src/time/clock.ts';
import { makeTestCa, type TestCa } from '../deploy/certificates.ts';
import { tempDir } from '../rig/tmp.ts';

const DAY = 86_400_000;

export interface DeploymentFixture {
  /** Set once the file's tests start. */
  store: Store;
  ctx: EngineContext;
  root: string;
  ca: TestCa;
  /** A certificate of the default subscription with a first version. */
  certificate(name: string, options?: { pfxPassword?: string; names?: string[] }): Promise<CertificateRow>;
  /** Stores a new current version of the certificate; its serial. */
  renew(name: string): Promise<string>;
}

export function deploymentFixture(prefix: string, clock?: Clock): DeploymentFixture {
  let remove = async () => {};
  const fixture = { root: '' } as DeploymentFixture;
  before(async () => {
    const dir = await tempDir(prefix);
    remove = dir.remove;
    fixture.root = dir.path;
    fixture.ca = await makeTestCa(dir.path);
    fixture.store = await openStore({ dataDir: dir.path });
    fixture.ctx = createEngineContext(fixture.store, { clock });
    await ensureSubscription(fixture.store.db, DEFAULT_SUBSCRIPTION_ID, 'default', Date.now());
  });
  after(async () => {
    await fixture.store?.close();
    await remove();
  });
  fixture.certificate = async (name, options = {}) => {
    const id = newId('crt');
    const now = fixture.ctx.clock.now();
    await insertCertificate(fixture.store.db, {
      id,
      subscription_id: DEFAULT_SUBSCRIPTION_ID,
      name,
      identifiers: (options.names ?? [name]).map((value) => ({ type: 'dns', value })),
      challenge_type: 'http-01',
      challenge_config: {},
      key_type: 'ec-p256',
      issuers: [{ caUrl: 'https://127.0.0.1:14000/dir' }],
      profile: null,
      renewal_policy: { autoRenew: true },
      pfx_password_enc: options.pfxPassword
        ? fixture.store.secrets.encrypt(options.pfxPassword, pfxPasswordAad(id))
        : null,
      csr_info: {},
      state: 'issuing',
      current_version_id: null,
      current_not_after: null,
      next_renewal_at: now + 30 * DAY,
      ...UNTOUCHED_RENEWAL_STATE,
      created_at: now,
      updated_at: now,
    });
    await fixture.renew(name);
    return (await findCertificate(fixture.store.db, DEFAULT_SUBSCRIPTION_ID, name))!;
  };
  fixture.renew = async (name) => {
    const certificate = (await findCertificate(fixture.store.db, DEFAULT_SUBSCRIPTION_ID, name))!;
    const bundle = await fixture.ca.issue(
      certificate.identifiers.map((identifier) => identifier.value),
      { certificateName: name },
    );
    const versionId = newId('ver');
    const now = fixture.ctx.clock.now();
    await insertVersion(fixture.store.db, {
      id: versionId,
      certificate_id: certificate.id,
      order_id: null,
      serial: bundle.serial,
      not_before: now,
      not_after: now + 10 * DAY,
      chain_pem: bundle.fullchainPem,
      key_enc: fixture.store.secrets.encrypt(bundle.keyPem, versionKeyAad(versionId)),
      ca_url: 'https://127.0.0.1:14000/dir',
      ari_cert_id: null,
      ari_window_start: null,
      ari_window_end: null,
      created_at: now,
    });
    await makeVersionCurrent(fixture.store.db, certificate.id, { id: versionId, not_after: now + 10 * DAY }, {
      state: 'valid',
      updated_at: now,
    });
    return bundle.serial;
  };
  return fixture;
}
