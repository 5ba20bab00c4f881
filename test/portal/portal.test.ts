// The portal in a real Chromium against a real `certkeep serve`, Pebble and
// BIND: signing in, a certificate issued live without reloading and its files
// opened with openssl, the manual DNS flow with records placed by nsupdate,
// revoke and delete, what a viewer may not have, CSRF, the lockout, another
// subscription's certificate, and axe-core plus screenshots of every page.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type Rig, runCli, startRig } from '../e2e/harness.ts';
import { eventually, type Server, startServer } from '../e2e/server.ts';
import { startAgent } from '../e2e/agents.ts';
import { tempDir } from '../rig/tmp.ts';
import { join } from 'node:path';
import { capture, launchChromium, newContext, signIn } from './browser.ts';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery staple';
const PFX_PASSWORD = 'pfx password 42';

describe('the web portal in Chromium', () => {
  let rig: Rig;
  let server: Server;
  let browser: Browser;
  let tenant: { id: string; apiKey: string; readKey: string };
  let other: { id: string; apiKey: string; readKey: string };
  let admin: BrowserContext;
  let page: Page;
  const contexts: BrowserContext[] = [];

  const env = () => ({ CERTKEEP_DATA_DIR: rig.dataDir });
  const addUser = (email: string, role: string, subscription = tenant.id) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          new URL('../../src/main.ts', import.meta.url).pathname,
          'admin',
          'user',
          'create',
          email,
          '--subscription',
          subscription,
          '--role',
          role,
          '--password-stdin',
        ],
        {
          env: { ...process.env, ...env() },
          stdio: ['pipe', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr))));
      child.stdin.end(`${PASSWORD}\n`);
    });
  const context = async () => {
    const made = await newContext(browser, server.base);
    contexts.push(made);
    return made;
  };

  before(async () => {
    rig = await startRig();
    server = await startServer(rig, { env: { CERTKEEP_RATE_LIMIT: 'off' } });
    tenant = await server.subscription('Example Hosting');
    other = await server.subscription('Someone Else');
    await addUser('admin@example.test', 'admin');
    await addUser('viewer@example.test', 'viewer');
    await addUser('locked@example.test', 'operator');
    browser = await launchChromium();
    admin = await context();
    page = await admin.newPage();
  });
  after(async () => {
    for (const made of contexts) await made.close().catch(() => {});
    await browser?.close();
    await server?.stop();
    await rig?.stop();
  });

  test('the sign-in page, then an empty dashboard', async () => {
    await page.goto('/');
    await page.waitForURL('**/');
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await capture(page, 'sign-in');
    await signIn(page, 'admin@example.test', PASSWORD);
    await page.getByText('No certificates yet').waitFor();
    await capture(page, 'dashboard-empty');
    const headers = (await page.request.get('/')).headers();
    assert.match(headers['content-security-policy'], /script-src 'self'/);
    assert.doesNotMatch(headers['content-security-policy'], /unsafe-inline/);
  });

  test('a certificate certkeep answers for becomes Valid on its page without a reload; PEM and PFX open with openssl', async () => {
    await page.getByRole('link', { name: 'Certificates', exact: true }).click();
    await page.getByText('No certificates yet').waitFor();
    await capture(page, 'certificates-empty');
    await page.getByRole('link', { name: 'New certificate', exact: true }).click();
    await page.getByLabel('Names', { exact: true }).fill('www.example.test\nexample.test');
    await page.getByLabel('PFX password (optional)').fill(PFX_PASSWORD);
    await capture(page, 'new-certificate');
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.waitForURL('**/certificates/www.example.test');
    await page.getByText('Valid', { exact: true }).waitFor({ timeout: 60_000 });
    assert.equal(
      await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument),
      true,
      'the page was not reloaded',
    );
    await capture(page, 'certificate');

    const [pem] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'PEM', exact: true }).click(),
    ]);
    const pemPath = await pem.path();
    const subject = await run('openssl', ['x509', '-in', pemPath, '-noout', '-ext', 'subjectAltName']);
    assert.match(subject.stdout, /DNS:www\.example\.test/);
    const [pfx] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'PFX', exact: true }).click(),
    ]);
    const opened = await run('openssl', [
      'pkcs12',
      '-in',
      await pfx.path(),
      '-passin',
      `pass:${PFX_PASSWORD}`,
      '-nodes',
    ]);
    assert.match(opened.stdout, /BEGIN CERTIFICATE/);
    assert.match(opened.stdout, /BEGIN PRIVATE KEY/);
  });

  test('the manual DNS flow: the page shows each TXT record, nsupdate places it in BIND, Validate, issued', async () => {
    await page.goto('/new-certificate');
    await page.getByLabel('Names', { exact: true }).fill('manual.example.test');
    await page.getByText('I place the tokens myself').click();
    await page.getByText('DNS', { exact: true }).click();
    await page.getByText('no managed zone').waitFor();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('button', { name: 'Validate', exact: true }).waitFor({ timeout: 60_000 });
    await capture(page, 'certificate-manual-tokens');
    const values = await page.locator('.token-value').allTextContents();
    assert.equal(values.length, 2, `a record name and a value: ${values}`);
    const [recordName, value] = values;
    assert.equal(recordName, '_acme-challenge.manual.example.test');
    const { tsig } = rig.bind;
    const [host, port] = rig.bind.address.split(':');
    const update = spawn('nsupdate', ['-y', `${tsig.algorithm}:${tsig.name}:${tsig.secret}`]);
    update.stdin.end(`server ${host} ${port}\nupdate add ${recordName}. 60 TXT "${value}"\nsend\n`);
    const code = await new Promise((resolve) => update.on('close', resolve));
    assert.equal(code, 0, 'nsupdate placed the record');
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await page.getByText('Valid', { exact: true }).waitFor({ timeout: 60_000 });
  });

  test('revoke and delete, each confirmed in a dialog', async () => {
    await page.goto('/certificates/manual.example.test');
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    const revoke = page.getByRole('dialog');
    await revoke.getByLabel('Why').selectOption('superseded');
    await revoke.getByRole('button', { name: 'Revoke', exact: true }).click();
    await page.getByText('Revoked', { exact: true }).first().waitFor();
    const again = await server.call('POST', '/api/v1/certificates/manual.example.test/revoke', {
      key: tenant.apiKey,
      body: {},
    });
    assert.equal(again.status, 409, 'revoking a revoked certificate is a conflict');
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL('**/certificates');
    await page.getByRole('link', { name: 'www.example.test' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'manual.example.test' }).count(), 0);
    await capture(page, 'certificates');
  });

  test('the dashboard, settings and account pages', async () => {
    await page.goto('/');
    await page.getByText('Recent activity').waitFor();
    await capture(page, 'dashboard');
    await page.goto('/settings/zones');
    await page.getByRole('heading', { name: 'Add a zone' }).waitFor();
    await page.getByLabel('Zone', { exact: true }).fill('example.test');
    await page.getByLabel('server', { exact: true }).fill(rig.bind.address);
    await page.getByLabel('tsigKey (optional)').fill(rig.bind.tsig.name);
    await page.getByLabel('tsigSecret (optional)').fill(rig.bind.tsig.secret);
    await page.getByLabel('tsigAlgorithm (optional)').fill(rig.bind.tsig.algorithm);
    await page.getByLabel('Nameservers to check (optional)').fill(rig.bind.address);
    await page.getByRole('button', { name: 'Add zone' }).click();
    await page.getByRole('button', { name: 'Test zone example.test' }).click();
    await page.getByText(/Works: a test record was served by every nameserver/).waitFor({ timeout: 60_000 });
    await capture(page, 'settings-zones');
    for (const [section, ready] of [
      ['webhooks', 'Add a webhook'],
      ['notifications', 'Notification mail'],
      ['keys', 'Create a key'],
      ['users', 'Add a user'],
    ]) {
      await page.goto(`/settings/${section}`);
      await page.getByRole('heading', { name: ready }).waitFor();
      await capture(page, `settings-${section}`);
    }
    await page.getByLabel('Their email').fill('new.person@example.test');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByText(/One-time password for new.person@example.test/).waitFor();
    await page.goto('/account');
    await page.getByRole('heading', { name: 'Change your password' }).waitFor();
    await capture(page, 'account');
  });

  test('host agents: enrolled and assigned in the settings, their deployments on the settings and certificate pages', async () => {
    const root = await tempDir('certkeep-portal-agent-');
    try {
      await page.goto('/settings/agents');
      await page.getByRole('heading', { name: 'Enrol an agent' }).waitFor();
      await page.getByText('No agents yet').waitFor();
      await page.getByLabel('Host name').fill('web1.example.test');
      await page.getByRole('button', { name: 'Enrol agent' }).click();
      const token = (await page.locator('code[data-copy]').first().textContent()) ?? '';
      assert.match(token, /^cka_/);
      for (const [to, reload] of [[join(root.path, 'tls', 'www'), 'noop'], [join(root.path, 'elsewhere', 'www'), '']]) {
        await page.getByRole('button', { name: 'Assign a certificate' }).click();
        await page.getByLabel('Certificate', { exact: true }).fill('www.example.test');
        await page.getByLabel('Directory on the host').fill(to);
        if (reload) await page.getByLabel('Reload (a name)').fill(reload);
        await page.getByRole('button', { name: 'Assign', exact: true }).click();
        await page.locator(".agent-item").getByText(to).first().waitFor();
      }
      const agent = startAgent({ server: server.base, token, args: ['--allow-dir', join(root.path, 'tls'), '--allow-reload', 'noop=true', '--state-dir', join(root.path, 'state')] });
      try {
        // The page follows the live stream: the agent's reports appear without a reload.
        await eventually(
          async () => [await page.getByText('Deployed', { exact: true }).count(), await page.getByText(/outside the directories this host allows/).count()],
          ([deployed, refused]) => deployed === 1 && refused === 1,
          60_000,
          `the deployment shown without a reload\n${agent.output()}`,
        );
        await capture(page, 'settings-agents');
        await page.goto('/certificates/www.example.test');
        await page.getByRole('heading', { name: 'Deployments' }).waitFor();
        const deployments = page.locator('section', { has: page.getByRole('heading', { name: 'Deployments' }) });
        await deployments.getByText('Deployed', { exact: true }).waitFor();
        await deployments.getByText(/outside the directories this host allows/).waitFor();
        await capture(page, 'certificate-deployments');
      } finally {
        await agent.kill();
      }
    } finally {
      await root.remove();
    }
  });

  test('a one-time password must be replaced at the first sign-in', async () => {
    const reset = await runCli(['admin', 'user', 'reset', 'new.person@example.test', '--json'], env());
    const fresh = await (await context()).newPage();
    await fresh.goto('/sign-in');
    await fresh.getByLabel('Email', { exact: true }).fill('new.person@example.test');
    await fresh.getByLabel('Password', { exact: true }).fill(reset.json().oneTimePassword);
    await fresh.getByRole('button', { name: 'Sign in', exact: true }).click();
    await fresh.getByRole('heading', { name: 'Choose your own password' }).waitFor();
    await capture(fresh, 'change-password');
    await fresh.getByLabel('One-time password').fill(reset.json().oneTimePassword);
    await fresh.getByLabel('New password', { exact: true }).fill('my own long password');
    await fresh.getByLabel('Repeat the new password').fill('my own long password');
    await fresh.getByRole('button', { name: 'Change password' }).click();
    await fresh.getByRole('link', { name: 'Certificates', exact: true }).waitFor();
  });

  test('a viewer sees no key or PFX download, and the API refuses them the key', async () => {
    const viewer = await (await context()).newPage();
    await signIn(viewer, 'viewer@example.test', PASSWORD);
    await viewer.goto('/certificates/www.example.test');
    await viewer.getByRole('link', { name: 'PEM', exact: true }).waitFor();
    assert.equal(await viewer.getByRole('link', { name: 'Key', exact: true }).count(), 0);
    assert.equal(await viewer.getByRole('link', { name: 'PFX', exact: true }).count(), 0);
    assert.equal(await viewer.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
    await capture(viewer, 'certificate-viewer');
    const key = await viewer.request.get('/api/v1/certificates/www.example.test/files/key');
    assert.equal(key.status(), 403);
    assert.match((await key.json()).detail, /operator or admin role/);
  });

  test('a change without the CSRF token is refused; with it, it goes through', async () => {
    const status = await page.evaluate(async () => {
      const send = (headers: Record<string, string>) =>
        fetch('/api/v1/notifications', {
          method: 'PUT',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ emails: ['ops@example.test'] }),
        });
      const without = await send({});
      const me = await (await fetch('/api/v1/session')).json();
      const withToken = await send({ 'x-csrf-token': me.csrfToken });
      return { without: without.status, detail: (await without.json()).detail, with: withToken.status };
    });
    assert.equal(status.without, 403);
    assert.match(status.detail, /CSRF token/);
    assert.equal(status.with, 200);
  });

  test('a sixth wrong password answers 429 with Retry-After, and the form says for how long', async () => {
    const guesser = await (await context()).newPage();
    await guesser.goto('/sign-in');
    const statuses: number[] = [];
    guesser.on('response', (response) => {
      if (response.url().endsWith('/api/v1/session') && response.request().method() === 'POST')
        statuses.push(response.status());
    });
    for (let i = 0; i < 6; i++) {
      await guesser.getByLabel('Email', { exact: true }).fill('locked@example.test');
      await guesser.getByLabel('Password', { exact: true }).fill(`wrong password ${i}`);
      await guesser.getByRole('button', { name: 'Sign in', exact: true }).click();
      await eventually(
        async () => statuses.length,
        (n) => n === i + 1,
        20_000,
        `answer ${i + 1}`,
      );
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    await guesser.getByText(/too many wrong passwords for this account: try again in 15 minutes/i).waitFor();
    const direct = await server.call('POST', '/api/v1/session', {
      body: { email: 'locked@example.test', password: PASSWORD },
    });
    assert.equal(direct.status, 429, 'even the right password waits');
    assert.ok(Number(direct.headers.get('retry-after')) > 800);
  });

  test("another subscription's certificate is not reachable by URL", async () => {
    const created = await server.call('POST', '/api/v1/certificates', {
      key: other.apiKey,
      body: { names: ['theirs.example.test'], answeredBy: 'client', challengeType: 'dns-01' },
    });
    assert.equal(created.status, 202, await created.text());
    await page.goto('/certificates/theirs.example.test');
    await page.getByText(/no certificate named "theirs.example.test" in this subscription/i).waitFor();
    const api = await page.request.get('/api/v1/certificates/theirs.example.test/details');
    assert.equal(api.status(), 404);
    const list = await (await page.request.get('/api/v1/certificates?q=theirs')).json();
    assert.equal(list.total, 0);
  });

  test("the event stream carries a subscription's own changes only, order steps included", async () => {
    const controller = new AbortController();
    const read = async (key: string) => {
      const response = await fetch(`${server.base}/api/v1/events/stream`, {
        headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
        signal: controller.signal,
      });
      assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      let text = '';
      (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of response.body!) text += decoder.decode(chunk as Uint8Array);
      })().catch(() => {});
      return () => text;
    };
    try {
      const mine = await read(tenant.readKey);
      const theirs = await read(other.readKey);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const created = await server.call('POST', '/api/v1/certificates', {
        key: tenant.apiKey,
        body: { names: ['stream.example.test'] },
      });
      assert.equal(created.status, 202);
      await eventually(
        async () => mine(),
        (text) => text.includes('"type":"certificate.issued"') && text.includes('stream.example.test'),
        60_000,
        'the issued event',
      );
      assert.match(
        mine(),
        /event: order\ndata: \{[^\n]*"certificate":"stream\.example\.test"[^\n]*"step":"placed"/,
      );
      assert.ok(!theirs().includes('stream.example.test'), 'the other subscription saw nothing of it');
      // An agent enrolled (its targets or token changing likewise): an `agent` message with its id, to its own subscription only.
      const enrolled = await server.call('POST', '/api/v1/agents', { key: tenant.apiKey, body: { host: 'stream-web.example.test' } });
      assert.equal(enrolled.status, 201, await enrolled.clone().text());
      const agentId = (await enrolled.json()).id;
      await eventually(async () => mine(), (text) => text.includes(`event: agent\ndata: {"id":"${agentId}"}`), 30_000, 'the agent message');
      assert.ok(!theirs().includes(agentId), 'the other subscription saw nothing of the agent');
      const noAccept = await server.call('GET', '/api/v1/events/stream', { key: tenant.readKey });
      assert.equal(noAccept.status, 406);
    } finally {
      controller.abort();
    }
  });
});
