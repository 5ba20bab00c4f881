// --smtp-url and --smtp-from: flags > env > file, and the password never in a message.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { UsageError } from '../../src/errors.ts';
import { smtpText, smtpTransportOptions } from '../../src/notify/email.ts';
import { tempDir } from '../rig/tmp.ts';

const PASSWORD = 'hunter2-s3cret';

describe('SMTP configuration', () => {
  let dir: { path: string; remove: () => Promise<void> };
  let configFile: string;
  before(async () => {
    dir = await tempDir();
    configFile = join(dir.path, 'config.json');
    await writeFile(
      configFile,
      JSON.stringify({ smtpUrl: 'smtp://file@file.example', smtpFrom: 'file@certkeep.example' }),
    );
  });
  after(() => dir.remove());

  test('flags win over the environment, which wins over the file', () => {
    const env = { CERTKEEP_SMTP_URL: 'smtps://env@env.example', CERTKEEP_SMTP_FROM: 'env@certkeep.example' };
    assert.equal(loadConfig({ config: configFile }, {}).smtp?.host, 'file.example');
    assert.equal(loadConfig({ config: configFile }, env).smtp?.host, 'env.example');
    assert.equal(loadConfig({ config: configFile }, env).smtp?.from, 'env@certkeep.example');
    const flagged = loadConfig(
      { config: configFile, smtpUrl: 'smtp://flag.example:2525', smtpFrom: 'flag@certkeep.example' },
      env,
    );
    assert.deepEqual(flagged.smtp, {
      host: 'flag.example',
      port: 2525,
      secure: false,
      user: undefined,
      password: undefined,
      from: 'flag@certkeep.example',
    });
    assert.equal(loadConfig({}, {}).smtp, undefined);
  });

  test('smtps:// is TLS on 465, smtp:// is 587; user and password are URL-decoded; the sender defaults to a user that is an address', () => {
    const smtps = loadConfig(
      { smtpUrl: `smtps://certkeep%40example.com:${encodeURIComponent('p@ss:w/rd')}@mail.example.com` },
      {},
    ).smtp;
    assert.deepEqual(smtps, {
      host: 'mail.example.com',
      port: 465,
      secure: true,
      user: 'certkeep@example.com',
      password: 'p@ss:w/rd',
      from: 'certkeep@example.com',
    });
    const smtp = loadConfig(
      { smtpUrl: 'smtp://relay.example.com', smtpFrom: 'certkeep <certkeep@example.com>' },
      {},
    ).smtp;
    assert.equal(smtp?.port, 587);
    assert.equal(smtp?.from, 'certkeep <certkeep@example.com>');
  });

  test('mistakes are usage errors naming the setting, and never repeat the password', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ smtpUrl: `http://user:${PASSWORD}@mail.example.com` }, /--smtp-url: the scheme is http:/],
      [{ smtpUrl: `user:${PASSWORD}@mail example com` }, /--smtp-url/],
      [
        { smtpUrl: `smtp://relay:${PASSWORD}@mail.example.com` },
        /--smtp-from \(env CERTKEEP_SMTP_FROM\): give the sender address/,
      ],
      [
        { smtpUrl: `smtp://relay:${PASSWORD}@mail.example.com`, smtpFrom: 'nobody' },
        /--smtp-from: "nobody" is not an email address/,
      ],
      [{ smtpFrom: 'certkeep@example.com' }, /--smtp-from needs --smtp-url/],
    ];
    for (const [flags, message] of cases) {
      assert.throws(
        () => loadConfig(flags, {}),
        (error: unknown) =>
          error instanceof UsageError && message.test(error.message) && !error.message.includes(PASSWORD),
        JSON.stringify(flags),
      );
    }
  });

  test('smtpText shows where mail goes without the password', () => {
    const smtp = loadConfig(
      { smtpUrl: `smtp://relay:${PASSWORD}@mail.example.com:2525`, smtpFrom: 'certkeep@example.com' },
      {},
    ).smtp!;
    assert.equal(smtpText(smtp), 'smtp://relay@mail.example.com:2525');
  });
});

test('a password crosses the network only encrypted: required STARTTLS unless smtps or loopback', () => {
  const base = { port: 587, user: 'relay', password: PASSWORD, from: 'certkeep@example.com' };
  assert.equal(smtpTransportOptions({ ...base, host: 'mail.example.com' }).requireTLS, true);
  assert.equal(smtpTransportOptions({ ...base, host: 'mail.example.com', secure: true }).requireTLS, false);
  assert.equal(smtpTransportOptions({ ...base, host: '127.0.0.1' }).requireTLS, false);
  assert.equal(
    smtpTransportOptions({ ...base, host: 'mail.example.com', user: undefined, password: undefined })
      .requireTLS,
    false,
  );
});
