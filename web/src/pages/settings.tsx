// Settings of the subscription: DNS zones (each provider's form drawn from its
// own settings description, with a Test button), webhooks and their delivery
// log, notification recipients, API keys (shown once), users, and the host
// agents with the targets assigned to them (a reload or hook is a name each
// host resolves, never a command). Changes need the admin role; others see
// what is set.
import { useState } from 'preact/hooks';
import { type Agent, ApiError, api, type Me, messageOf, type Provider, type Zone } from '../api.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';
import {
  ConfirmButton,
  CopyButton,
  Empty,
  eventWord,
  Field,
  formatTime,
  Loading,
  Notice,
  PageTitle,
  useDebounced,
  useResource,
} from '../ui.tsx';

const SECTIONS = [
  { id: 'zones', label: 'DNS zones', admin: false },
  { id: 'webhooks', label: 'Webhooks', admin: false },
  { id: 'notifications', label: 'Notifications', admin: false },
  { id: 'agents', label: 'Agents', admin: false },
  { id: 'keys', label: 'API keys', admin: true },
  { id: 'users', label: 'Users', admin: true },
];

export function SettingsPage({ me, section }: { me: Me; section: string }) {
  const admin = me.scopes.includes('admin');
  const visible = SECTIONS.filter((s) => admin || !s.admin);
  const current = visible.find((s) => s.id === section) ?? visible[0];
  return (
    <div class="stack-lg">
      <PageTitle title={`Settings: ${current.label}`}>Settings</PageTitle>
      <nav class="tabs" aria-label="Settings">
        {visible.map((s) => (
          <Link key={s.id} href={`/settings/${s.id}`} aria-current={s.id === current.id ? 'page' : undefined}>
            {s.label}
          </Link>
        ))}
      </nav>
      {!admin && <Notice kind="info">Only admins can change settings; you see what is set.</Notice>}
      {current.id === 'zones' && <Zones admin={admin} />}
      {current.id === 'webhooks' && <Webhooks admin={admin} />}
      {current.id === 'notifications' && <Notifications admin={admin} />}
      {current.id === 'agents' && <Agents admin={admin} />}
      {current.id === 'keys' && <ApiKeys />}
      {current.id === 'users' && <Users me={me} />}
    </div>
  );
}

/** A form's submit: sends, shows field errors and the server's message, resets on success. */
function useSubmit(send: (form: FormData) => Promise<void>) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const element = event.currentTarget as HTMLFormElement;
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      await send(new FormData(element));
      element.reset();
    } catch (e) {
      if (e instanceof ApiError) setErrors(e.fields);
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return { onSubmit, errors, error, busy };
}

// ---- DNS zones ----

function Zones({ admin }: { admin: boolean }) {
  const zones = useResource(() => api<{ zones: Zone[] }>('GET', '/zones'), []);
  const providers = useResource(() => api<{ providers: Provider[] }>('GET', '/dns-providers'), []);
  return (
    <div class="stack-lg">
      <section class="card card-flush" aria-labelledby="zones-heading">
        <h2 id="zones-heading" class="card-title">
          Managed zones
        </h2>
        <p class="card-intro muted">
          certkeep writes DNS-01 records in these zones itself, so certificates for names in them need no
          manual steps.
        </p>
        {zones.error && <Notice>{zones.error}</Notice>}
        {!zones.data ? (
          <Loading what="zones" />
        ) : zones.data.zones.length === 0 ? (
          <Empty title="No zones yet">
            {admin && <p>Add one below to let certkeep answer DNS challenges.</p>}
          </Empty>
        ) : (
          <ul class="list">
            {zones.data.zones.map((zone) => (
              <ZoneRow key={zone.zone} zone={zone} admin={admin} onRemoved={zones.reload} />
            ))}
          </ul>
        )}
      </section>
      {admin && providers.data && <AddZone providers={providers.data.providers} onAdded={zones.reload} />}
    </div>
  );
}

function ZoneRow({ zone, admin, onRemoved }: { zone: Zone; admin: boolean; onRemoved: () => void }) {
  const [result, setResult] = useState<{ ok: boolean; text: string }>();
  const [testing, setTesting] = useState(false);
  const test = async () => {
    setTesting(true);
    setResult(undefined);
    try {
      const outcome = await api<{ ok: true; elapsedMs: number } | { ok: false; error: string }>(
        'POST',
        `/zones/${encodeURIComponent(zone.zone)}/test`,
      );
      setResult(
        outcome.ok
          ? {
              ok: true,
              text: `Works: a test record was served by every nameserver after ${(outcome.elapsedMs / 1000).toFixed(1)} s, and removed.`,
            }
          : { ok: false, text: `Failed: ${outcome.error}` },
      );
    } catch (e) {
      setResult({ ok: false, text: messageOf(e) });
    } finally {
      setTesting(false);
    }
  };
  const settings = Object.entries(zone.settings);
  return (
    <li class="list-item">
      <div class="list-main">
        <span class="strong mono">{zone.zone}</span>
        <span class="pill">{zone.provider}</span>
        <span class="muted small break">
          {settings.map(([k, v]) => `${k}: ${v}`).join(' · ')}
          {zone.nameservers.length > 0 ? ` · checked at ${zone.nameservers.join(', ')}` : ''}
        </span>
        {zone.delegation && (
          <span class="small">
            Create once at your DNS: <code>{zone.delegation.record}</code> CNAME{' '}
            <code>{zone.delegation.target}</code>
          </span>
        )}
        {result && (
          <p class={`small ${result.ok ? 'ok-text' : 'error-text'}`} role="status">
            {result.text}
          </p>
        )}
      </div>
      {admin && (
        <div class="list-actions">
          <button
            type="button"
            class="button button-secondary button-small"
            onClick={test}
            disabled={testing}
            aria-label={`Test zone ${zone.zone}`}
          >
            {testing ? 'Testing…' : 'Test'}
          </button>
          <ConfirmButton
            small
            danger
            label="Remove"
            title={`Remove zone ${zone.zone}?`}
            confirm="Remove zone"
            onConfirm={async () => {
              await api('DELETE', `/zones/${encodeURIComponent(zone.zone)}`);
              onRemoved();
            }}
          >
            <p>
              certkeep stops writing records there. Certificates for its names then need their tokens placed
              by hand, or another zone.
            </p>
          </ConfirmButton>
        </div>
      )}
    </li>
  );
}

function AddZone({ providers, onAdded }: { providers: Provider[]; onAdded: () => void }) {
  const [providerName, setProviderName] = useState(providers[0]?.name ?? '');
  const provider = providers.find((p) => p.name === providerName);
  const form = useSubmit(async (data) => {
    const settings = Object.fromEntries(
      (provider?.settings ?? [])
        .map((s) => [s.name, String(data.get(`setting-${s.name}`) ?? '').trim()])
        .filter(([, v]) => v !== ''),
    );
    const nameservers = String(data.get('nameservers') ?? '')
      .split(/[\s,]+/)
      .filter(Boolean);
    await api('POST', '/zones', {
      zone: String(data.get('zone')).trim(),
      provider: providerName,
      settings,
      ...(nameservers.length ? { nameservers } : {}),
    });
    onAdded();
  });
  return (
    <section class="card stack" aria-labelledby="add-zone-heading">
      <h2 id="add-zone-heading">Add a zone</h2>
      <form onSubmit={form.onSubmit} class="stack form" noValidate>
        {form.error && <Notice>{form.error}</Notice>}
        <div class="grid-2">
          <Field
            label="Zone"
            name="zone"
            placeholder="example.com"
            required
            spellcheck={false}
            autocapitalize="off"
            error={form.errors.zone}
          />
          <Field label="Provider" name="provider" hint={provider?.description} error={form.errors.provider}>
            <select
              id="field-provider"
              name="provider"
              value={providerName}
              onChange={(e) => setProviderName((e.target as HTMLSelectElement).value)}
              aria-describedby="field-provider-hint"
            >
              {providers.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
          </Field>
          {provider?.settings.map((s) => (
            <Field
              key={`${provider.name}-${s.name}`}
              label={`${s.name}${s.required ? '' : ' (optional)'}`}
              name={`setting-${s.name}`}
              type={s.secret ? 'password' : 'text'}
              autocomplete={s.secret ? 'new-password' : 'off'}
              required={s.required}
              spellcheck={false}
              hint={`${s.description}${s.secret ? '. Stored encrypted, never shown again.' : ''}`}
              error={form.errors[`settings.${s.name}`] ?? form.errors[s.name]}
            />
          ))}
          <Field
            label="Nameservers to check (optional)"
            name="nameservers"
            placeholder="ns1.example.com:53"
            spellcheck={false}
            hint="host:port of each server to wait for; empty to ask the zone's public nameservers."
            error={form.errors.nameservers}
          />
        </div>
        <div>
          <button type="submit" class="button button-primary" disabled={form.busy}>
            {form.busy ? 'Adding…' : 'Add zone'}
          </button>
        </div>
      </form>
    </section>
  );
}

// ---- Webhooks ----

interface Webhook {
  id: string;
  url: string;
  eventTypes: string[];
  createdAt: string;
}

interface Delivery {
  id: number;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}

const EVENT_TYPES = [
  'certificate.issued',
  'certificate.renewed',
  'certificate.revoked',
  'certificate.deleted',
  'certificate.expiring',
  'certificate.expired',
  'issuance.failed',
  'renewal.failed',
];

function Webhooks({ admin }: { admin: boolean }) {
  const hooks = useResource(() => api<{ webhooks: Webhook[] }>('GET', '/webhooks'), []);
  const [secret, setSecret] = useState<string>();
  const form = useSubmit(async (data) => {
    const eventTypes = data.getAll('eventTypes').map(String);
    const created = await api<{ secret: string }>('POST', '/webhooks', {
      url: String(data.get('url')).trim(),
      eventTypes,
    });
    setSecret(created.secret);
    hooks.reload();
  });
  return (
    <div class="stack-lg">
      <section class="card card-flush" aria-labelledby="hooks-heading">
        <h2 id="hooks-heading" class="card-title">
          Webhooks
        </h2>
        <p class="card-intro muted">
          certkeep POSTs each event to these addresses, signed with the webhook's secret.
        </p>
        {hooks.error && <Notice>{hooks.error}</Notice>}
        {!hooks.data ? (
          <Loading what="webhooks" />
        ) : hooks.data.webhooks.length === 0 ? (
          <Empty title="No webhooks yet" />
        ) : (
          <ul class="list">
            {hooks.data.webhooks.map((hook) => (
              <WebhookRow key={hook.id} hook={hook} admin={admin} onRemoved={hooks.reload} />
            ))}
          </ul>
        )}
      </section>
      {admin && (
        <section class="card stack" aria-labelledby="add-hook-heading">
          <h2 id="add-hook-heading">Add a webhook</h2>
          {secret && (
            <Notice kind="success">
              Signing secret, shown only now: <code data-copy={secret}>{secret}</code>{' '}
              <CopyButton text={secret} label="signing secret" />
            </Notice>
          )}
          <form onSubmit={form.onSubmit} class="stack form" noValidate>
            {form.error && <Notice>{form.error}</Notice>}
            <Field
              label="URL"
              name="url"
              type="url"
              placeholder="https://hooks.example.com/certkeep"
              required
              error={form.errors.url}
            />
            <fieldset class="checks">
              <legend>Events (none checked: every event)</legend>
              {EVENT_TYPES.map((type) => (
                <label key={type} class="check">
                  <input type="checkbox" name="eventTypes" value={type} /> <span>{eventWord(type)}</span>
                </label>
              ))}
            </fieldset>
            <div>
              <button type="submit" class="button button-primary" disabled={form.busy}>
                {form.busy ? 'Adding…' : 'Add webhook'}
              </button>
            </div>
          </form>
        </section>
      )}
    </div>
  );
}

function WebhookRow({ hook, admin, onRemoved }: { hook: Webhook; admin: boolean; onRemoved: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <li class="list-item list-item-column">
      <div class="list-row">
        <div class="list-main">
          <span class="strong break">{hook.url}</span>
          <span class="muted small">
            {hook.eventTypes.length === 0 ? 'every event' : hook.eventTypes.map(eventWord).join(', ')} · added{' '}
            {formatTime(hook.createdAt)}
          </span>
        </div>
        <div class="list-actions">
          <button
            type="button"
            class="button button-secondary button-small"
            aria-expanded={open}
            onClick={() => setOpen(!open)}
          >
            {open ? 'Hide deliveries' : 'Deliveries'}
          </button>
          {admin && (
            <ConfirmButton
              small
              danger
              label="Remove"
              title="Remove this webhook?"
              confirm="Remove webhook"
              onConfirm={async () => {
                await api('DELETE', `/webhooks/${hook.id}`);
                onRemoved();
              }}
            >
              <p>No more events are sent to {hook.url}; its delivery log goes too.</p>
            </ConfirmButton>
          )}
        </div>
      </div>
      {open && <DeliveryLog id={hook.id} />}
    </li>
  );
}

function DeliveryLog({ id }: { id: string }) {
  const log = useResource(
    () => api<{ deliveries: Delivery[] }>('GET', `/webhooks/${id}/deliveries?limit=20`),
    [id],
  );
  if (log.error) return <Notice>{log.error}</Notice>;
  if (!log.data) return <Loading what="deliveries" />;
  if (log.data.deliveries.length === 0) return <p class="muted small">Nothing sent yet.</p>;
  return (
    <table class="table table-compact">
      <caption class="visually-hidden">Recent deliveries</caption>
      <thead>
        <tr>
          <th scope="col">Event</th>
          <th scope="col">Result</th>
          <th scope="col">Tries</th>
          <th scope="col">When</th>
        </tr>
      </thead>
      <tbody>
        {log.data.deliveries.map((d) => (
          <tr key={d.id}>
            <td data-label="Event">{eventWord(d.eventType)}</td>
            <td data-label="Result">
              {d.status === 'delivered'
                ? `Delivered (${d.lastStatusCode})`
                : d.status === 'pending'
                  ? `Retrying${d.lastError ? `: ${d.lastError}` : ''}`
                  : `Gave up: ${d.lastError ?? d.lastStatusCode}`}
            </td>
            <td data-label="Tries">{d.attempts}</td>
            <td data-label="When">{formatTime(d.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// ---- Notifications ----

function Notifications({ admin }: { admin: boolean }) {
  const recipients = useResource(() => api<{ emails: string[] }>('GET', '/notifications'), []);
  const [saved, setSaved] = useState(false);
  const form = useSubmit(async (data) => {
    setSaved(false);
    const emails = String(data.get('emails') ?? '')
      .split(/[\s,;]+/)
      .filter(Boolean);
    await api('PUT', '/notifications', { emails });
    setSaved(true);
    recipients.reload();
  });
  if (!recipients.data)
    return recipients.error ? <Notice>{recipients.error}</Notice> : <Loading what="recipients" />;
  return (
    <section class="card stack" aria-labelledby="mail-heading">
      <h2 id="mail-heading">Notification mail</h2>
      <p class="muted">
        Who gets a message when a renewal fails, when it recovers, and before a certificate expires (if the
        server sends mail).
      </p>
      {admin ? (
        <form onSubmit={form.onSubmit} class="stack form-narrow" noValidate>
          {form.error && <Notice>{form.error}</Notice>}
          {saved && <Notice kind="success">Saved.</Notice>}
          <Field
            label="Recipients"
            name="emails"
            hint="One address per line; empty for no mail."
            error={form.errors.emails}
          >
            <textarea
              id="field-emails"
              name="emails"
              rows={4}
              aria-describedby="field-emails-hint"
              spellcheck={false}
              defaultValue={recipients.data.emails.join('\n')}
              key={recipients.data.emails.join(',')}
            />
          </Field>
          <div>
            <button type="submit" class="button button-primary" disabled={form.busy}>
              {form.busy ? 'Saving…' : 'Save recipients'}
            </button>
          </div>
        </form>
      ) : recipients.data.emails.length === 0 ? (
        <p>No one gets mail.</p>
      ) : (
        <ul class="plain">
          {recipients.data.emails.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      )}
    </section>
  );
}

// ---- Host agents ----

const TARGET_WORDS: Record<string, string> = { deployed: 'Deployed', pending: 'Pending', failed: 'Failed', waiting: 'Waiting' };

function Agents({ admin }: { admin: boolean }) {
  const agents = useResource(() => api<{ agents: Agent[] }>('GET', '/agents'), []);
  // Deployments reported, targets or tokens changed (here or elsewhere): the list follows without a reload.
  const refresh = useDebounced(agents.reload, 300);
  useLive((message) => {
    if (message.kind === 'agent' || message.kind === 'reconnected') return refresh();
    if (message.kind === 'event' && message.event.type.startsWith('deployment.')) refresh();
  });
  const [token, setToken] = useState<{ host: string; token: string }>();
  const enrol = useSubmit(async (data) => {
    const created = await api<{ host: string; token: string }>('POST', '/agents', { host: String(data.get('host') ?? '').trim() });
    setToken(created);
    agents.reload();
  });
  const rotate = async (agent: Agent) => {
    const rotated = await api<{ host: string; token: string }>('POST', `/agents/${agent.id}/rotate`);
    setToken(rotated);
    agents.reload();
  };
  return (
    <div class="stack-lg">
      {token && (
        <Notice kind="success">
          <p>Copy the token for {token.host} now: it is shown only once. On that host run:</p>
          <p class="secret-line">
            <code data-copy={token.token}>{token.token}</code> <CopyButton text={token.token} label="agent token" />
          </p>
          <p class="mono small">
            certkeep agent --server {location.origin} --token TOKEN --allow-dir /etc/ssl/certkeep --allow-reload
            nginx='nginx -s reload'
          </p>
        </Notice>
      )}
      <section class="card card-flush" aria-labelledby="agents-heading">
        <h2 id="agents-heading" class="card-title">
          Host agents
        </h2>
        <p class="card-intro muted">
          Each web server runs an agent that pulls its certificates, deploys them, checks they are served and
          reports back. What runs on a host, and where it writes, is decided on that host: a target names a
          reload or hook, which the host's agent resolves.
        </p>
        {agents.error && <Notice>{agents.error}</Notice>}
        {!agents.data ? (
          <Loading what="agents" />
        ) : agents.data.agents.length === 0 ? (
          <Empty title="No agents yet">{admin ? 'Enrol one below for each web server.' : null}</Empty>
        ) : (
          <ul class="list">
            {agents.data.agents.map((agent) => (
              <li key={agent.id} class="list-item agent-item">
                <div class="list-main">
                  <span class="strong">{agent.host}</span>
                  <span class="mono small">{agent.id}</span>
                  <span class="muted small">{agent.lastSeenAt ? `Last seen ${formatTime(agent.lastSeenAt)}` : 'Never seen'}</span>
                  <AgentTargets agent={agent} admin={admin} reload={agents.reload} />
                </div>
                {admin && (
                  <div class="list-actions">
                    <ConfirmButton small label="New token" title={`A new token for ${agent.host}?`} confirm="Replace token" onConfirm={() => rotate(agent)}>
                      <p>The agent's current token is refused at once; give it the new one.</p>
                    </ConfirmButton>
                    <ConfirmButton
                      small
                      danger
                      label="Remove"
                      title={`Remove the agent of ${agent.host}?`}
                      confirm="Remove agent"
                      onConfirm={async () => {
                        await api('DELETE', `/agents/${agent.id}`);
                        agents.reload();
                      }}
                    >
                      <p>Its token is refused at once and its targets go; the files on the host stay.</p>
                    </ConfirmButton>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      {admin && (
        <section class="card stack" aria-labelledby="new-agent-heading">
          <h2 id="new-agent-heading">Enrol an agent</h2>
          <form onSubmit={enrol.onSubmit} class="stack form-narrow" noValidate>
            {enrol.error && <Notice>{enrol.error}</Notice>}
            <Field label="Host name" name="host" placeholder="web1.example.com" required error={enrol.errors.host} />
            <div>
              <button type="submit" class="button button-primary" disabled={enrol.busy}>
                {enrol.busy ? 'Enrolling…' : 'Enrol agent'}
              </button>
            </div>
          </form>
        </section>
      )}
    </div>
  );
}

function AgentTargets({ agent, admin, reload }: { agent: Agent; admin: boolean; reload: () => void }) {
  const [open, setOpen] = useState(false);
  const assign = useSubmit(async (data) => {
    const text = (name: string) => String(data.get(name) ?? '').trim() || undefined;
    await api('POST', `/agents/${agent.id}/targets`, {
      certificate: text('certificate'),
      to: text('to'),
      format: text('format'),
      reload: text('reload'),
      deployHook: text('deployHook'),
      verify: (text('verify') ?? '').split(/[\s,]+/).filter(Boolean),
    });
    setOpen(false);
    reload();
  });
  const prefix = `agent-${agent.id}`;
  return (
    <div class="stack">
      {agent.targets.length === 0 ? (
        <p class="muted small">Deploys nothing yet.</p>
      ) : (
        <ul class="plain small agent-targets">
          {agent.targets.map((target) => (
            <li key={target.id} class="agent-target">
              <div class="agent-target-main">
                <span class="strong">{target.certificate}</span> → <span class="mono">{target.directory}</span>{' '}
                <span class={target.status === 'failed' ? 'pill pill-bad' : 'pill'}>{TARGET_WORDS[target.status]}</span>
                {target.reload && <span class="muted"> · reload {target.reload}</span>}
                {target.deployHook && <span class="muted"> · hook {target.deployHook}</span>}
                {target.error && <p class="deployment-error">{target.error}</p>}
              </div>
              {admin && (
                <ConfirmButton
                  small
                  label="Stop"
                  title={`Stop deploying ${target.certificate} to ${target.directory}?`}
                  confirm="Remove target"
                  onConfirm={async () => {
                    await api('DELETE', `/agents/${agent.id}/targets/${target.id}`);
                    reload();
                  }}
                >
                  <p>The agent stops managing the directory and leaves its files.</p>
                </ConfirmButton>
              )}
            </li>
          ))}
        </ul>
      )}
      {admin && !open && (
        <div>
          <button type="button" class="button button-secondary button-small" onClick={() => setOpen(true)}>
            Assign a certificate
          </button>
        </div>
      )}
      {admin && open && (
        <form onSubmit={assign.onSubmit} class="stack form-narrow" noValidate aria-label={`Assign a certificate to ${agent.host}`}>
          {assign.error && <Notice>{assign.error}</Notice>}
          <Field label="Certificate" name={`${prefix}-certificate`} required error={assign.errors.certificate}>
            <input id={`field-${prefix}-certificate`} name="certificate" required />
          </Field>
          <Field label="Directory on the host" name={`${prefix}-to`} hint="Under one of the agent's --allow-dir" error={assign.errors.to}>
            <input id={`field-${prefix}-to`} name="to" placeholder="/etc/ssl/certkeep/www.example.com" aria-describedby={`field-${prefix}-to-hint`} />
          </Field>
          <Field label="Format" name={`${prefix}-format`} error={assign.errors.format}>
            <select id={`field-${prefix}-format`} name="format">
              <option value="pem">PEM files (cert, chain, fullchain, privkey)</option>
              <option value="combined">One combined PEM</option>
              <option value="pfx">PFX</option>
            </select>
          </Field>
          <Field label="Reload (a name)" name={`${prefix}-reload`} hint="Resolved by the host's --allow-reload NAME=CMD" error={assign.errors.reload}>
            <input id={`field-${prefix}-reload`} name="reload" placeholder="nginx" aria-describedby={`field-${prefix}-reload-hint`} />
          </Field>
          <Field label="Deploy hook (a name)" name={`${prefix}-deployHook`} error={assign.errors.deployHook}>
            <input id={`field-${prefix}-deployHook`} name="deployHook" />
          </Field>
          <Field label="Check served at" name={`${prefix}-verify`} hint="HOST:PORT, several separated by spaces" error={assign.errors.verify}>
            <input id={`field-${prefix}-verify`} name="verify" placeholder="127.0.0.1:443" aria-describedby={`field-${prefix}-verify-hint`} />
          </Field>
          <div class="list-actions">
            <button type="submit" class="button button-primary" disabled={assign.busy}>
              {assign.busy ? 'Assigning…' : 'Assign'}
            </button>
            <button type="button" class="button button-secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}

// ---- API keys ----

interface ApiKey {
  id: string;
  prefix: string;
  scopes: string[];
  label: string;
  createdAt: string;
  revokedAt: string | null;
}

const SCOPE_WORDS: Record<string, string> = {
  read: 'Read',
  write: 'Read and change certificates',
  admin: 'Everything (admin)',
};

function ApiKeys() {
  const keys = useResource(() => api<{ keys: ApiKey[] }>('GET', '/api-keys'), []);
  const [shown, setShown] = useState<string>();
  const form = useSubmit(async (data) => {
    const created = await api<{ apiKey: string }>('POST', '/api-keys', {
      scope: String(data.get('scope')),
      label: String(data.get('label') ?? '').trim(),
    });
    setShown(created.apiKey);
    keys.reload();
  });
  const active = keys.data?.keys.filter((k) => !k.revokedAt) ?? [];
  const revoked = keys.data?.keys.filter((k) => k.revokedAt) ?? [];
  return (
    <div class="stack-lg">
      <section class="card card-flush" aria-labelledby="keys-heading">
        <h2 id="keys-heading" class="card-title">
          API keys
        </h2>
        <p class="card-intro muted">
          Programs use these with the REST API (Authorization: Bearer &lt;key&gt;). A key has the rights of
          the role of the same name.
        </p>
        {keys.error && <Notice>{keys.error}</Notice>}
        {!keys.data ? (
          <Loading what="keys" />
        ) : active.length === 0 ? (
          <Empty title="No active keys" />
        ) : (
          <ul class="list">
            {active.map((key) => (
              <li key={key.id} class="list-item">
                <div class="list-main">
                  <span class="strong">{key.label || 'Unnamed key'}</span>
                  <span class="mono small">{key.prefix}…</span>
                  <span class="muted small">
                    {SCOPE_WORDS[key.scopes.at(-1) ?? 'read']} · created {formatTime(key.createdAt)}
                  </span>
                </div>
                <div class="list-actions">
                  <ConfirmButton
                    small
                    danger
                    label="Revoke"
                    title="Revoke this key?"
                    confirm="Revoke key"
                    onConfirm={async () => {
                      await api('DELETE', `/api-keys/${key.id}`);
                      keys.reload();
                    }}
                  >
                    <p>
                      Programs using <span class="mono">{key.prefix}…</span> are refused from now on.
                    </p>
                  </ConfirmButton>
                </div>
              </li>
            ))}
          </ul>
        )}
        {revoked.length > 0 && (
          <p class="card-intro muted small">
            {revoked.length} revoked {revoked.length === 1 ? 'key' : 'keys'} not shown.
          </p>
        )}
      </section>
      <section class="card stack" aria-labelledby="new-key-heading">
        <h2 id="new-key-heading">Create a key</h2>
        {shown && (
          <Notice kind="success">
            <p>Copy the key now: it is shown only once.</p>
            <p class="secret-line">
              <code data-copy={shown}>{shown}</code> <CopyButton text={shown} label="API key" />
            </p>
          </Notice>
        )}
        <form onSubmit={form.onSubmit} class="stack form-narrow" noValidate>
          {form.error && <Notice>{form.error}</Notice>}
          <Field
            label="What it is for"
            name="label"
            placeholder="deploy script on web-1"
            maxLength={100}
            error={form.errors.label}
          />
          <Field label="Rights" name="scope" error={form.errors.scope}>
            <select id="field-scope" name="scope">
              <option value="read">Read (like a viewer)</option>
              <option value="write">Read and change certificates (like an operator)</option>
              <option value="admin">Everything (like an admin)</option>
            </select>
          </Field>
          <div>
            <button type="submit" class="button button-primary" disabled={form.busy}>
              {form.busy ? 'Creating…' : 'Create key'}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}

// ---- Users ----

interface User {
  id: string;
  email: string;
  role: string;
  mustChangePassword: boolean;
  lockedUntil: string | null;
  lastSignInAt: string | null;
}

const ROLE_WORDS: Record<string, string> = { viewer: 'Viewer', operator: 'Operator', admin: 'Admin' };

function Users({ me }: { me: Me }) {
  const users = useResource(() => api<{ users: User[] }>('GET', '/users'), []);
  const [password, setPassword] = useState<{ email: string; password: string }>();
  const form = useSubmit(async (data) => {
    const created = await api<{ user: User; oneTimePassword: string }>('POST', '/users', {
      email: String(data.get('email')).trim(),
      role: String(data.get('role')),
    });
    setPassword({ email: created.user.email, password: created.oneTimePassword });
    users.reload();
  });
  const reset = async (user: User) => {
    const done = await api<{ oneTimePassword: string }>('POST', `/users/${user.id}/reset`);
    setPassword({ email: user.email, password: done.oneTimePassword });
    users.reload();
  };
  return (
    <div class="stack-lg">
      {password && (
        <Notice kind="success">
          <p>
            One-time password for {password.email}, shown only now. Give it to them; they choose their own at
            the first sign-in.
          </p>
          <p class="secret-line">
            <code data-copy={password.password}>{password.password}</code>{' '}
            <CopyButton text={password.password} label="one-time password" />
          </p>
        </Notice>
      )}
      <section class="card card-flush" aria-labelledby="users-heading">
        <h2 id="users-heading" class="card-title">
          Users
        </h2>
        {users.error && <Notice>{users.error}</Notice>}
        {!users.data ? (
          <Loading what="users" />
        ) : (
          <ul class="list">
            {users.data.users.map((user) => (
              <li key={user.id} class="list-item">
                <div class="list-main">
                  <span class="strong">{user.email}</span>
                  <span class="pill">{ROLE_WORDS[user.role] ?? user.role}</span>
                  <span class="muted small">
                    {user.lockedUntil
                      ? `Locked after wrong passwords until ${formatTime(user.lockedUntil)}`
                      : user.mustChangePassword
                        ? 'Has not chosen a password yet'
                        : user.lastSignInAt
                          ? `Last signed in ${formatTime(user.lastSignInAt)}`
                          : 'Never signed in'}
                  </span>
                </div>
                {user.id !== me.user?.id && (
                  <div class="list-actions">
                    <ConfirmButton
                      small
                      label="Reset password"
                      title={`Reset the password of ${user.email}?`}
                      confirm="Reset password"
                      onConfirm={() => reset(user)}
                    >
                      <p>
                        They are signed out everywhere and get a one-time password to replace at their next
                        sign-in.
                      </p>
                    </ConfirmButton>
                    <ConfirmButton
                      small
                      danger
                      label="Remove"
                      title={`Remove ${user.email}?`}
                      confirm="Remove user"
                      onConfirm={async () => {
                        await api('DELETE', `/users/${user.id}`);
                        users.reload();
                      }}
                    >
                      <p>They are signed out at once and can no longer sign in.</p>
                    </ConfirmButton>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card stack" aria-labelledby="add-user-heading">
        <h2 id="add-user-heading">Add a user</h2>
        <form onSubmit={form.onSubmit} class="stack form-narrow" noValidate>
          {form.error && <Notice>{form.error}</Notice>}
          <Field
            label="Their email"
            name="email"
            type="email"
            autocomplete="off"
            required
            error={form.errors.email}
          />
          <Field label="Role" name="role" error={form.errors.role}>
            <select id="field-role" name="role">
              <option value="viewer">Viewer: sees certificates, never keys</option>
              <option value="operator">Operator: also creates, renews, revokes, deletes</option>
              <option value="admin">Admin: also users, keys, zones, webhooks</option>
            </select>
          </Field>
          <div>
            <button type="submit" class="button button-primary" disabled={form.busy}>
              {form.busy ? 'Adding…' : 'Add user'}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
