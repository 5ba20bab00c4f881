// The TLS-ALPN-01 responder over real TLS handshakes on loopback, as a CA's
// validator makes them: ALPN acme-tls/1, the name in the SNI.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { connect as connectTcp, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect, type PeerCertificate } from 'node:tls';
import { MemoryAnswers } from '../../src/challenges/answers.ts';
import { startTlsAlpnResponder, type TlsAlpnResponder, TlsAlpnSolver } from '../../src/challenges/tls-alpn-responder.ts';
import type { ChallengeTask } from '../../src/challenges/solver.ts';
import { OID_ACME_IDENTIFIER } from '../../src/pki/index.ts';
import { reverseName } from '../../src/pki/ip.ts';
import { freePort } from '../../src/rig/ports.ts';

interface Handshake {
  protocol: string | false | null;
  certificate: X509Certificate;
  /** The data the server sent after the handshake before it closed: none. */
  received: number;
}

/** One handshake as a validator makes it; rejects when the server refuses it. */
function handshake(port: number, serverName: string, protocols: string[] = ['acme-tls/1']): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    let received = 0;
    let result: Omit<Handshake, 'received'> | undefined;
    const socket = connect({ host: '127.0.0.1', port, servername: serverName, ALPNProtocols: protocols, rejectUnauthorized: false }, () => {
      const peer = socket.getPeerCertificate(true) as PeerCertificate;
      result = { protocol: socket.alpnProtocol, certificate: new X509Certificate(peer.raw) };
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.on('error', reject);
    socket.on('close', () => (result ? resolve({ ...result, received }) : reject(new Error('closed before the handshake completed'))));
  });
}

/** The acmeIdentifier extension's value, found in the certificate's DER: 06 08 <OID> 01 01 ff 04 22 04 20 <digest>. */
function acmeIdentifierDigest(certificate: X509Certificate): string | undefined {
  const oid = Buffer.from('2b0601050507011f', 'hex'); // 1.3.6.1.5.5.7.1.31
  assert.equal(OID_ACME_IDENTIFIER, '1.3.6.1.5.5.7.1.31');
  const der = certificate.raw;
  const at = der.indexOf(Buffer.concat([Buffer.of(0x06, oid.length), oid, Buffer.from('0101ff04220420', 'hex')]));
  return at < 0 ? undefined : der.subarray(at + 2 + oid.length + 7, at + 2 + oid.length + 7 + 32).toString('hex');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('TLS-ALPN-01 responder', () => {
  const answers = new MemoryAnswers();
  let responder: TlsAlpnResponder;
  before(async () => {
    responder = await startTlsAlpnResponder({ host: '127.0.0.1', port: 0, answers });
  });
  after(() => responder.close());

  test('acme-tls/1 with the pending name: the validation certificate for that name and key authorization, then the connection closes', async () => {
    answers.set('www.example.test', 'token-1.thumbprint');
    const result = await handshake(responder.port, 'WWW.example.test');
    assert.equal(result.protocol, 'acme-tls/1');
    assert.equal(result.certificate.subjectAltName, 'DNS:www.example.test');
    assert.equal(acmeIdentifierDigest(result.certificate), sha256('token-1.thumbprint'));
    assert.equal(result.received, 0, 'no application data');
  });

  test('a new answer for the name replaces the old one', async () => {
    answers.set('www.example.test', 'token-2.thumbprint');
    assert.equal(acmeIdentifierDigest((await handshake(responder.port, 'www.example.test')).certificate), sha256('token-2.thumbprint'));
  });

  test('an IP identifier, named by its reverse name in the SNI (RFC 8738 §6)', async () => {
    answers.set('127.0.0.1', 'token-ip.thumbprint');
    const result = await handshake(responder.port, reverseName('127.0.0.1')!);
    assert.equal(result.certificate.subjectAltName, 'IP Address:127.0.0.1');
    assert.equal(acmeIdentifierDigest(result.certificate), sha256('token-ip.thumbprint'));
  });

  test('a name with no pending challenge is refused', async () => {
    await assert.rejects(handshake(responder.port, 'other.example.test'));
  });

  test('a client that does not offer acme-tls/1 is refused (no_application_protocol)', async () => {
    await assert.rejects(handshake(responder.port, 'www.example.test', ['h2', 'http/1.1']), /no application protocol/);
  });

  test('an answer source that fails refuses the handshake and keeps serving others', async () => {
    const failing = await startTlsAlpnResponder({
      host: '127.0.0.1',
      port: 0,
      answers: { keyAuthorization: (name) => (name === 'ok.example.test' ? 'token-ok.thumbprint' : Promise.reject(new Error('store down'))) },
    });
    try {
      await assert.rejects(handshake(failing.port, 'down.example.test'));
      assert.equal(acmeIdentifierDigest((await handshake(failing.port, 'ok.example.test')).certificate), sha256('token-ok.thumbprint'));
    } finally {
      await failing.close();
    }
  });

  test('a port in use: the error names the port and the option that chose it', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(startTlsAlpnResponder({ host: '127.0.0.1', port, answers }), new RegExp(`TLS-ALPN-01: port ${port} on 127\\.0\\.0\\.1 is already in use .*--tls-port N`));
      await assert.rejects(startTlsAlpnResponder({ host: '127.0.0.1', port, answers, option: '--tls-alpn-listen' }), /choose another --tls-alpn-listen/);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test('close() frees the port even with a client stalled mid-handshake', async () => {
    const own = await startTlsAlpnResponder({ host: '127.0.0.1', port: 0, answers });
    const stalled = connectTcp(own.port, '127.0.0.1');
    await new Promise((resolve) => stalled.once('connect', resolve));
    await own.close();
    const again = await startTlsAlpnResponder({ host: '127.0.0.1', port: own.port, answers });
    await again.close();
    stalled.destroy();
  });
});

describe('TLS-ALPN-01 solver (the CLI’s, answers in memory)', () => {
  const task = (value: string, keyAuthorization: string): ChallengeTask => ({
    type: 'tls-alpn-01',
    identifier: { type: 'dns', value },
    token: keyAuthorization.split('.')[0],
    keyAuthorization,
    dnsValue: '',
    wildcard: false,
  });

  test('present makes the name answerable; cleanup takes it away, but not a newer answer for the same name', async () => {
    const port = await freePort();
    const solver = await TlsAlpnSolver.start({ host: '127.0.0.1', port });
    try {
      await solver.present(task('a.example.test', 'old.thumb'));
      assert.equal(acmeIdentifierDigest((await handshake(port, 'a.example.test')).certificate), sha256('old.thumb'));
      await solver.present(task('a.example.test', 'new.thumb'));
      await solver.cleanup(task('a.example.test', 'old.thumb'));
      assert.equal(acmeIdentifierDigest((await handshake(port, 'a.example.test')).certificate), sha256('new.thumb'));
      await solver.cleanup(task('a.example.test', 'new.thumb'));
      await assert.rejects(handshake(port, 'a.example.test'));
    } finally {
      await solver.close();
    }
  });
});
