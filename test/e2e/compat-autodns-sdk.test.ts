// The vendor's own Node SDK (npm js-domainrobot-sdk, unmodified) against
// certkeep's /autodns/v1, used as its documentation shows: prepareOrder, create,
// poll and confirm, info, prepare again and renew, reissue, realtime create,
// list, comment, revoke, delete — its answers read through its own models.
// certkeep serve with Pebble (reusing valid authorizations, as CAs do) and BIND.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../rig/tmp.ts';
import { clientCsr, txtRecords } from './client-csr.ts';
import { type Rig, startRig, ZONE } from './harness.ts';
import { clientDns, type Server, startServer } from './server.ts';

// The SDK is CommonJS with loose typings of its own; the test reads its results as the vendor's JSON.
const { DomainRobot, DomainRobotModels } = createRequire(import.meta.url)('js-domainrobot-sdk');

// biome-ignore lint/suspicious/noExplicitAny: the SDK's results and models are read loosely
type Loose = any;

describe('AutoDNS compatibility API with the vendor SDK', () => {
  let rig: Rig;
  let server: Server;
  let robot: Loose;
  let dir: { path: string; remove: () => Promise<void> };
  // A name that starts with digits: the SDK's models read ids with parseInt(v) || v.
  const id = `2024.${ZONE}`;
  const names = [id, `www.2024.${ZONE}`];
  let number = 0;

  before(async () => {
    rig = await startRig({ pebble: { env: { PEBBLE_AUTHZREUSE: '100' } } });
    server = await startServer(rig);
    const tenant = await server.subscription('sdk tenant');
    dir = await tempDir('certkeep-sdk-');
    robot = new DomainRobot({ url: `${server.base}/autodns/v1`, auth: { user: tenant.id, password: tenant.apiKey, context: 4 } });
  });
  after(async () => {
    const code = await server?.stop();
    await rig?.stop();
    await dir?.remove();
    assert.equal(code, 0, 'serve exits 0 on SIGTERM');
    assert.doesNotMatch(server.output(), /"statusCode":500/, 'no request ended in a 500');
  });

  /** The SDK's prepareOrder with a new CSR for `certificateNames`, as its CertificateData model reads the answer. */
  async function prepare(certificateNames: string[]): Promise<{ csr: string; data: Loose; raw: Loose }> {
    const { csr } = await clientCsr(dir.path, 'rsa2048', certificateNames);
    const result = await robot.certificate().prepareOrder(new DomainRobotModels.Certificate({ csr, product: 'BASIC_SSL', authentication: { method: 'DNS' } }));
    assert.equal(result.status, 200);
    assert.deepEqual(result.result.status, { code: 'S400110', text: result.result.status.text, type: 'SUCCESS' });
    const [raw] = result.result.data;
    return { csr, data: new DomainRobotModels.CertificateData(raw), raw };
  }

  /** PollInfo until the job's result; every message is confirmed with PollConfirm, as a polling client does. */
  async function jobResult(jobId: string): Promise<Loose> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const polled = await robot.poll().info();
      assert.equal(polled.result.status.code, 'S0905');
      const [raw] = polled.result.data;
      const message = raw && new DomainRobotModels.PollMessage(raw);
      if (message) {
        assert.notEqual(message.job?.status, 'FAILED', `the job failed: ${JSON.stringify(raw)}`);
        const confirmed = await robot.poll().confirm(message.id);
        assert.equal(confirmed.status, 200);
        assert.equal(confirmed.result.status.code, 'S0906');
        if (message.job?.id === jobId && message.job.status === 'SUCCESS') return { message, raw };
      }
      if (Date.now() > deadline) assert.fail(`no result for job ${jobId}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** An SDK call that must fail: its DomainRobotException, with the vendor's error envelope. */
  async function refused(call: () => Promise<unknown>): Promise<{ status: number; error: Loose }> {
    // The SDK logs every failure it throws with console.log; these are expected ones.
    const log = console.log;
    console.log = () => {};
    try {
      await call();
    } catch (exception) {
      const { status, error } = exception as { status: number; error: Loose };
      assert.equal(error.status.type, 'ERROR', JSON.stringify(error));
      assert.match(error.messages[0].text, /\w{10}/);
      return { status, error };
    } finally {
      console.log = log;
    }
    return assert.fail('the SDK call succeeded');
  }

  test('prepareOrder, create, poll and confirm, info: the flow completes and the ids survive the models', async () => {
    const { csr, data, raw } = await prepare(names);
    assert.equal(data.name, id);
    assert.equal(data.algorithm, 'RSA', "the model keeps algorithm: it is one of the vendor's RSA, ECC, DSA");
    assert.equal(data.signatureHashAlgorithm, 'SHA256');
    assert.deepEqual(data.authentication.map((a: Loose) => a.name).sort(), [...names].sort(), 'one authentication per name');
    const dns = clientDns(rig);
    const records = txtRecords(raw.authentication);
    for (const record of records) await dns.place(record.fqdn, record.value);

    const created = await robot.certificate().create(new DomainRobotModels.Certificate({ name: id, csr, authentication: { method: 'DNS' } }));
    assert.deepEqual([created.result.status.code, created.result.status.type], ['N400101', 'NOTIFY']);
    const job = new DomainRobotModels.ObjectJob(created.result.data[0]).job;
    assert.match(String(job.id), /^ord_/, 'the job id survives parseInt');

    const { raw: rawMessage } = await jobResult(job.id);
    assert.equal(rawMessage.job.action, 'create', "the action (the model's WorkflowSpool has none)");
    for (const record of records) await dns.remove(record.fqdn, record.value);
    number = rawMessage.object.data.id;
    assert.ok(Number.isInteger(number), 'the message gives the certificate id');

    const info = await robot.certificate().info(number);
    const certificate = new DomainRobotModels.Certificate(info.result.data[0]);
    assert.equal(certificate.id, number, 'parseInt(id) is the id certkeep handed out');
    assert.equal(certificate.name, id);
    const leaf = new X509Certificate(certificate.server);
    assert.deepEqual((leaf.subjectAltName ?? '').split(', ').sort(), names.map((n) => `DNS:${n}`).sort());
    assert.equal(certificate.serialNumber.replace(/^0+/, ''), leaf.serialNumber.replace(/^0+/, ''));
    const byName = await robot.certificate().info(id);
    assert.equal(byName.result.data[0].id, number, 'the name finds it too');
  });

  test('prepare again: names the CA already authorised are listed as valid; renew and reissue need nothing placed', async () => {
    assert.ok(number, 'the first test issued the certificate');
    for (const [task, code] of [
      ['renew', 'N400106'],
      ['reissue', 'N400102'],
    ] as const) {
      const { csr, data, raw } = await prepare(names);
      assert.equal(data.authentication.length, 2, `one entry per name: ${JSON.stringify(raw.authentication)}`);
      for (const entry of raw.authentication) {
        assert.deepEqual({ ...entry, name: '' }, { name: '', method: 'DNS', provisioning: true, valid: true });
      }
      const started = await robot.certificate()[task](new DomainRobotModels.Certificate({ id: number, csr, authentication: { method: 'DNS' } }));
      assert.deepEqual([started.result.status.code, started.result.status.type], [code, 'NOTIFY']);
      const job = new DomainRobotModels.ObjectJob(started.result.data[0]).job;
      const { raw: message } = await jobResult(job.id);
      assert.equal(message.job.action, 'renew');
    }
    const info = await robot.certificate().info(number);
    assert.equal(info.result.data[0].histories.length, 2, 'two earlier versions');
  });

  test('createRealtime is a create; list, comment, revoke, delete; errors are DomainRobotExceptions', async () => {
    const realtimeName = `rt.${ZONE}`;
    const { csr, raw } = await prepare([realtimeName]);
    const dns = clientDns(rig);
    const [record] = txtRecords(raw.authentication);
    await dns.place(record.fqdn, record.value);
    const created = await robot.certificate().createRealtime(new DomainRobotModels.Certificate({ name: realtimeName, csr }));
    assert.equal(created.result.status.code, 'N400101');
    await jobResult(created.result.data[0].job.id);
    await dns.remove(record.fqdn, record.value);

    const query = new DomainRobotModels.Query({ filters: [{ key: 'name', value: '*.example.test', operator: 'LIKE' }], orders: [{ key: 'id', type: 'ASC' }] });
    const listed = await robot.certificate().list(query, ['expire', 'serialNumber']);
    const certificates = listed.result.data.map((c: Loose) => new DomainRobotModels.Certificate(c));
    assert.deepEqual(
      certificates.map((c: Loose) => [c.id, c.name]),
      [
        [number, id],
        [certificates[1].id, realtimeName],
      ],
    );
    assert.ok(certificates[1].id > number, 'numbers follow creation');

    const comment = await refused(() => robot.certificate().comment({ certificateId: number, comment: 'web shop', csr: '' }));
    assert.equal(comment.status, 501);
    assert.equal(comment.error.status.code, 'E400111');

    const revoked = await robot.certificate().sendDeleteRequest(`${robot.domainRobotConfig.url}/certificate/${number}/_revoke`);
    assert.equal(revoked.result.status.code, 'S400107');
    const again = await refused(() => robot.certificate().sendDeleteRequest(`${robot.domainRobotConfig.url}/certificate/${number}/_revoke`));
    assert.equal(again.status, 409, 'revoked already');
    const revokedMessage = new DomainRobotModels.PollMessage((await robot.poll().info()).result.data[0]);
    assert.equal(revokedMessage.notify.type, 'CERTIFICATE_REVOKED');
    assert.equal((await robot.poll().confirm(revokedMessage.id)).status, 200);

    for (const certificate of certificates) assert.equal((await robot.certificate().delete(certificate.id)).result.status.code, 'S400103');
    const gone = await refused(() => robot.certificate().info(number));
    assert.equal(gone.status, 404);
    assert.equal(gone.error.status.code, 'E400104');
    for (;;) {
      const [message] = (await robot.poll().info()).result.data;
      if (!message) break;
      assert.equal((await robot.poll().confirm(message.id)).status, 200);
    }
    assert.equal((await robot.poll().info()).result.object.summary, 0, 'the queue moved on to its end');
  });
});
