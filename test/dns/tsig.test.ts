import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseServer, exchange } from '../../src/dns/transport.ts';
import { findTsig, signMessage, type TsigKey, verifyResponse } from '../../src/dns/tsig.ts';
import { buildTxtUpdate } from '../../src/dns/providers/rfc2136/update-message.ts';
import { type Bind, startBind } from '../../src/rig/bind.ts';

describe('TSIG against BIND', () => {
  let bind: Bind;
  let key: TsigKey;
  before(async () => {
    bind = await startBind();
    key = bind.tsig;
  });
  after(() => bind?.stop());

  async function signedUpdate(value: string) {
    const update = buildTxtUpdate(
      { action: 'add', zone: 'example.test', name: '_acme-challenge.tsig.example.test', value, ttl: 60 },
      4242,
    );
    const signed = signMessage(update, key);
    const response = await exchange(parseServer(bind.address), signed.message);
    return { signed, response };
  }

  test('the request carries a TSIG record BIND accepts, and its signed answer verifies', async () => {
    const { signed, response } = await signedUpdate('one');
    const request = findTsig(signed.message);
    assert.equal(request?.tsig.keyName, key.name);
    assert.equal(request?.tsig.algorithm, 'hmac-sha256');
    assert.equal(request?.tsig.mac.length, 32);
    assert.equal(signed.message.readUInt16BE(10), 1, 'ARCOUNT counts the TSIG record');

    assert.equal(response.readUInt16BE(2) & 0x0f, 0, 'NOERROR');
    const check = verifyResponse(response, signed.mac, key);
    assert.equal(check.ok, true, check.ok ? '' : check.problem);
  });

  test('a tampered answer, another request MAC or another key does not verify', async () => {
    const { signed, response } = await signedUpdate('two');
    const tampered = Buffer.from(response);
    tampered[3] ^= 0x10; // a header flag bit inside the signed part
    assert.deepEqual(verifyResponse(tampered, signed.mac, key).ok, false);

    const otherMac = randomBytes(signed.mac.length);
    const check = verifyResponse(response, otherMac, key);
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.problem, /does not verify/);

    const otherKey = { ...key, secret: randomBytes(32).toString('base64') };
    assert.equal(verifyResponse(response, signed.mac, otherKey).ok, false);
  });

  test('an answer signed long ago fails the time check', async () => {
    const { signed, response } = await signedUpdate('three');
    const check = verifyResponse(response, signed.mac, key, Date.now() + 3_600_000);
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.problem, /clock skew/);
  });

  test('a request signed outside the fudge window gets BADTIME', async () => {
    const update = buildTxtUpdate(
      { action: 'add', zone: 'example.test', name: '_acme-challenge.late.example.test', value: 'x', ttl: 60 },
      7,
    );
    const signed = signMessage(update, key, Date.now() - 3_600_000);
    const response = await exchange(parseServer(bind.address), signed.message);
    assert.equal(findTsig(response)?.tsig.error, 18);
    const check = verifyResponse(response, signed.mac, key);
    assert.equal(check.ok, false);
    assert.match(check.ok ? '' : check.problem, /BADTIME/);
  });
});

test('an unsigned response is reported as such', () => {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x8000, 2);
  const check = verifyResponse(header, Buffer.alloc(32), {
    name: 'k',
    algorithm: 'hmac-sha256',
    secret: 'c2VjcmV0',
  });
  assert.equal(check.ok, false);
  assert.match(check.ok ? '' : check.problem, /not signed/);
});
