// What ships for operators in ops/: the alert rules pass promtool's own checks
// and unit tests (Debian's prometheus package), and the rules and the Grafana
// dashboard use only metrics certkeep exports — compared with a real scrape of
// certkeep's /metrics listener, not with a list kept by hand.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { type Engine, engineOn } from '../../src/engine/engine.ts';
import { watchEngine } from '../../src/engine/metrics.ts';
import { createSubscription } from '../../src/engine/tenancy.ts';
import { startMetricsListener } from '../../src/metrics/listener.ts';
import { openStore, type Store } from '../../src/store/database.ts';
import { seedDueCertificates } from '../rig/due-certificates.ts';
import { tempDir } from '../rig/tmp.ts';

const run = promisify(execFile);
const OPS = new URL('../../ops/', import.meta.url).pathname;
const ALERTS = `${OPS}prometheus/alerts.yml`;
const DASHBOARD = `${OPS}grafana/certkeep.json`;

/** PromQL words that are not metric names. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric names an expression reads: identifiers that are not functions, keywords, labels, strings or durations. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\w+/g, ' '); // dashboard variables
  // A word followed by "(" is a function or an aggregation; a word starting a number is a number.
  const words = [...bare.matchAll(/[a-zA-Z0-9_:.]+/g)].filter(
    (match) => !/^\s*\(/.test(bare.slice(match.index + match[0].length)),
  );
  const names = words.map((match) => match[0]).filter((word) => /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(word));
  return [...new Set(names.filter((name) => !KEYWORDS.has(name.toLowerCase())))];
}

/** The series names a scrape declares: each family's own, and a histogram's _bucket, _sum and _count. */
function exported(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram' || type === 'summary')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

function alertExpressions(): { alert: string; expr: string }[] {
  // The rules file is YAML; its expressions are the block scalars after "expr: |".
  const text = readFileSync(ALERTS, 'utf8');
  return [...text.matchAll(/- alert: (\S+)\n\s+expr: \|\n((?:\s{10}.*\n)+)/g)].map(([, alert, expr]) => ({
    alert,
    expr,
  }));
}

function dashboardExpressions(): { panel: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const panels: { title: string; targets?: { expr: string }[] }[] = dashboard.panels;
  const fromPanels = panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
  const fromVariables = dashboard.templating.list.map((variable: { name: string; query: string }) => ({
    panel: `variable ${variable.name}`,
    expr: variable.query.replace(/^label_values\(([^,]+),.*\)$/, '$1'),
  }));
  return [...fromPanels, ...fromVariables];
}

describe('ops: alert rules and dashboard', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: Store;
  let engine: Engine;
  let scrape: string;

  before(async () => {
    dir = await tempDir('certkeep-ops-');
    store = await openStore({ dataDir: dir.path });
    engine = engineOn(store, { answers: 'server' });
    const subscriptionId = (await createSubscription(engine, 'ops')).id;
    await seedDueCertificates(store, { subscriptionId, count: 3, caUrl: 'https://ca.example/dir' });
    const metrics = watchEngine(engine);
    const listener = await startMetricsListener(metrics, '127.0.0.1', 0, () => {});
    try {
      scrape = await (await fetch(`http://127.0.0.1:${listener.port}/metrics`)).text();
    } finally {
      await listener.close();
    }
  });
  after(async () => {
    await engine?.close();
    await store?.close();
    await dir?.remove();
  });

  test('promtool finds the rules well formed, and its unit tests of them pass', async () => {
    const checked = await run('promtool', ['check', 'rules', ALERTS]);
    assert.match(checked.stdout, /SUCCESS: 5 rules found/);
    const tested = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: `${OPS}prometheus` });
    assert.match(tested.stdout, /SUCCESS/);
  });

  test('the alert rules cover what the issue names, and read only metrics certkeep exports', () => {
    const rules = alertExpressions();
    assert.deepEqual(
      rules.map((rule) => rule.alert),
      [
        'CertkeepCertificateExpiringRenewalOffTrack',
        'CertkeepCertificateExpiringSoon',
        'CertkeepRenewalsFailing',
        'CertkeepCAUnreachable',
        'CertkeepWebhookDeliveriesFailing',
      ],
    );
    const known = exported(scrape);
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      assert.ok(names.length > 0, `${rule.alert} reads some metric`);
      for (const name of names)
        assert.ok(known.has(name), `${rule.alert} reads ${name}, which certkeep does not export`);
    }
  });

  test('every panel of the dashboard reads only metrics certkeep exports', () => {
    const known = exported(scrape);
    const expressions = dashboardExpressions();
    assert.ok(expressions.length >= 10, 'the dashboard has its panels');
    const unknown = expressions.flatMap(({ panel, expr }) =>
      metricNames(expr)
        .filter((name) => !known.has(name))
        .map((name) => `${panel}: ${name}`),
    );
    assert.deepEqual(unknown, []);
    const read = new Set(expressions.flatMap(({ expr }) => metricNames(expr)));
    for (const family of [
      'certkeep_certificate_expiration_timestamp_seconds',
      'certkeep_certificate_ready_status',
      'certkeep_orders_total',
      'certkeep_webhook_deliveries_total',
    ]) {
      assert.ok(read.has(family), `the dashboard shows ${family}`);
    }
  });

  test('the name check itself: a metric certkeep does not export is caught, functions and labels are not names', () => {
    assert.deepEqual(
      metricNames('sum by (ca) (rate(certmanager_http_acme_client_request_count{status=~"5.."}[5m])) > 0.5'),
      ['certmanager_http_acme_client_request_count'],
    );
    assert.deepEqual(
      metricNames('histogram_quantile(0.95, sum by (le) (rate(x_bucket[$__rate_interval])))'),
      ['x_bucket'],
    );
    assert.ok(!exported(scrape).has('certmanager_certificate_expiration_timestamp_seconds'));
    assert.ok(
      exported(scrape).has('certkeep_http_acme_client_request_duration_seconds_bucket'),
      'a histogram with no observation yet is declared',
    );
  });
});
