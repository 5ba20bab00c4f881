// One certificate: its state, settings, downloads, orders with their steps as
// they happen (and, when you place the tokens yourself, each record or file to
// create with a Validate button), versions and events. Renew, revoke and delete
// each ask first.
import { useState } from 'preact/hooks';
import { api, type CertificateDetails, type Me, messageOf, type Order } from '../api.ts';
import { useLive } from '../live.ts';
import { Link, navigate } from '../router.tsx';
import {
  ConfirmButton,
  CopyButton,
  DaysLeft,
  Empty,
  eventTone,
  eventWord,
  formatDate,
  formatTime,
  Loading,
  Notice,
  PageTitle,
  relativeDays,
  StateBadge,
  useDebounced,
  useResource,
} from '../ui.tsx';

const KEY_TYPES: Record<string, string> = {
  'ec-p256': 'ECDSA P-256',
  'ec-p384': 'ECDSA P-384',
  'rsa-2048': 'RSA 2048',
  'rsa-3072': 'RSA 3072',
  'rsa-4096': 'RSA 4096',
};
const CHALLENGES: Record<string, string> = {
  'http-01': 'HTTP (a file on the web server)',
  'dns-01': 'DNS (a TXT record)',
  'tls-alpn-01': 'TLS-ALPN',
};
const REASONS = [
  { value: 'unspecified', label: 'No particular reason' },
  { value: 'keyCompromise', label: 'The private key was exposed' },
  { value: 'superseded', label: 'Replaced by another certificate' },
  { value: 'cessationOfOperation', label: 'The site is no longer in use' },
  { value: 'affiliationChanged', label: 'The organisation changed' },
];

export function CertificatePage({ me, name }: { me: Me; name: string }) {
  const path = `/certificates/${encodeURIComponent(name)}`;
  const details = useResource(() => api<CertificateDetails>('GET', `${path}/details`), [name]);
  const [deleted, setDeleted] = useState(false);
  const refresh = useDebounced(details.reload, 150);
  useLive((message) => {
    if (message.kind === 'reconnected') return refresh();
    if (message.kind === 'order' && message.order.certificate === name) return refresh();
    if (
      message.kind === 'event' &&
      (message.event.certificate === name || message.event.payload.name === name)
    ) {
      if (message.event.type === 'certificate.deleted') setDeleted(true);
      else refresh();
    }
  });
  const cert = details.data;
  if (!cert) {
    const missing = details.error && !details.loading;
    return (
      <div class="stack-lg">
        <PageTitle title={name}>{name}</PageTitle>
        {missing ? (
          <Notice>
            {details.error} <Link href="/certificates">Back to the list</Link>
          </Notice>
        ) : (
          <Loading what="the certificate" />
        )}
      </div>
    );
  }
  const mayWrite = me.scopes.includes('write');
  const order = cert.orders[0];
  return (
    <div class="stack-lg">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/certificates">Back to the list</Link>
      </nav>
      <PageTitle
        title={cert.name}
        actions={mayWrite && !deleted && <Actions cert={cert} path={path} onChanged={details.reload} />}
      >
        <span class="title-name">{cert.name}</span> <StateBadge state={cert.state} />
      </PageTitle>
      {deleted && (
        <Notice kind="warning">
          This certificate was deleted. <Link href="/certificates">Back to the list</Link>
        </Notice>
      )}
      {details.error && <Notice>{details.error}</Notice>}
      {cert.lastError && cert.state !== 'revoked' && (
        <Notice kind="warning">
          The last attempt failed: {cert.lastError}
          {cert.retryAt
            ? ` certkeep tries again ${relativeDays(cert.retryAt)} (${formatTime(cert.retryAt)}).`
            : ''}
        </Notice>
      )}
      {order && (order.step !== 'valid' || Date.parse(order.updatedAt) > Date.now() - 10 * 60_000) && (
        <OrderProgress order={order} mayWrite={mayWrite} onChanged={details.reload} />
      )}
      <div class="columns columns-wide-left">
        <Facts cert={cert} />
        <Downloads cert={cert} path={path} mayWrite={mayWrite} />
      </div>
      {cert.deployments && cert.deployments.length > 0 && <Deployments cert={cert} />}
      <Versions cert={cert} />
      <History cert={cert} />
    </div>
  );
}

function Actions({
  cert,
  path,
  onChanged,
}: {
  cert: CertificateDetails;
  path: string;
  onChanged: () => void;
}) {
  const [reason, setReason] = useState('unspecified');
  return (
    <>
      {cert.state !== 'revoked' && (
        <ConfirmButton
          label="Renew now"
          title="Renew this certificate now?"
          confirm="Renew now"
          onConfirm={async () => {
            await api('POST', `${path}/renew`);
            onChanged();
          }}
        >
          <p>
            certkeep orders a new certificate for the same names with a new key. The current one stays in use
            until the new one is issued.
          </p>
        </ConfirmButton>
      )}
      {cert.state !== 'revoked' && cert.serial && (
        <ConfirmButton
          label="Revoke"
          title="Revoke this certificate?"
          confirm="Revoke"
          danger
          onConfirm={async () => {
            await api('POST', `${path}/revoke`, { reason });
            onChanged();
          }}
        >
          <p>
            The CA marks serial <span class="mono">{cert.serial}</span> as revoked: browsers may refuse it
            from then on. This cannot be undone, and the certificate is no longer renewed.
          </p>
          <div class="field">
            <label for="reason">Why</label>
            <select
              id="reason"
              value={reason}
              onChange={(e) => setReason((e.target as HTMLSelectElement).value)}
            >
              {REASONS.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
          </div>
        </ConfirmButton>
      )}
      <ConfirmButton
        label="Delete"
        title="Delete this certificate?"
        confirm="Delete"
        danger
        onConfirm={async () => {
          await api('DELETE', path);
          navigate('/certificates');
        }}
      >
        <p>
          Its versions, keys and orders are removed from certkeep. It is not revoked: a copy already deployed
          keeps working until it expires.
        </p>
      </ConfirmButton>
    </>
  );
}

const STEPS = [
  { step: 'placed', label: 'Order placed' },
  { step: 'provisioned', label: 'Answers in place' },
  { step: 'responded', label: 'CA checking' },
  { step: 'ready', label: 'Names validated' },
  { step: 'finalized', label: 'Signing' },
  { step: 'valid', label: 'Issued' },
];
const ORDER = ['new', 'placed', 'provisioned', 'responded', 'ready', 'finalized', 'valid'];

function OrderProgress({
  order,
  mayWrite,
  onChanged,
}: {
  order: Order;
  mayWrite: boolean;
  onChanged: () => void;
}) {
  const failed = order.step === 'invalid' || order.step === 'failed';
  const reached = ORDER.indexOf(order.step);
  const waitingForClient =
    order.answeredBy === 'client' && order.goal === 'placed' && order.step === 'placed';
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const validate = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', `/orders/${order.id}/finalize`);
      onChanged();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  const current = failed
    ? 'failed'
    : order.step === 'valid'
      ? 'done'
      : waitingForClient
        ? 'waiting for you'
        : 'in progress';
  return (
    <section class="card stack" aria-labelledby="order-heading">
      <div class="card-head">
        <h2 id="order-heading">Latest order</h2>
        <span class="muted small">
          started {formatTime(order.createdAt)} · {current}
        </span>
      </div>
      <ol class="steps" aria-live="polite">
        {STEPS.map((s) => {
          const index = ORDER.indexOf(s.step);
          const state =
            failed && index === reached + 1
              ? 'failed'
              : index <= reached
                ? 'done'
                : index === reached + 1 && !waitingForClient && !failed
                  ? 'current'
                  : 'todo';
          return (
            <li
              key={s.step}
              class={`step step-${state}`}
              aria-current={state === 'current' ? 'step' : undefined}
            >
              <span class="step-dot" aria-hidden="true" />
              <span class="step-label">{s.label}</span>
              <span class="visually-hidden">
                {state === 'done'
                  ? ' (done)'
                  : state === 'current'
                    ? ' (now)'
                    : state === 'failed'
                      ? ' (failed)'
                      : ''}
              </span>
            </li>
          );
        })}
      </ol>
      {failed && order.error && <Notice>This order failed: {order.error}. Renew to start a new one.</Notice>}
      {waitingForClient && <Tokens order={order} />}
      {waitingForClient && mayWrite && (
        <div class="stack">
          {error && <Notice>{error}</Notice>}
          <div>
            <button type="button" class="button button-primary" onClick={validate} disabled={busy}>
              {busy ? 'Asking the CA…' : 'Validate'}
            </button>
          </div>
          <p class="hint">
            Once every record or file above is in place, Validate asks the CA to check them; the certificate
            is issued right after.
          </p>
        </div>
      )}
    </section>
  );
}

function Tokens({ order }: { order: Order }) {
  const dns = order.challengeType === 'dns-01';
  return (
    <div class="stack">
      <p>
        {dns
          ? 'Create these TXT records at your DNS provider. A name with two values (a domain and its wildcard) needs both records.'
          : 'Serve each file at the address shown, as plain text, over HTTP on port 80.'}
      </p>
      <ul class="tokens">
        {order.tokens.map((token) => {
          const where = dns
            ? token.recordName
            : `http://${token.identifier}/.well-known/acme-challenge/${token.token}`;
          const what = dns ? token.dnsValue : token.keyAuthorization;
          return (
            <li key={`${token.identifier}-${token.token}`} class="token">
              <div class="token-row">
                <span class="token-label">{dns ? 'TXT record' : 'Address'}</span>
                <code class="token-value" data-copy={where}>
                  {where}
                </code>
                <CopyButton
                  text={where}
                  label={`${dns ? 'record name' : 'address'} for ${token.identifier}`}
                />
              </div>
              <div class="token-row">
                <span class="token-label">{dns ? 'Value' : 'Content'}</span>
                <code class="token-value" data-copy={what}>
                  {what}
                </code>
                <CopyButton text={what} label={`${dns ? 'value' : 'content'} for ${token.identifier}`} />
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function Facts({ cert }: { cert: CertificateDetails }) {
  const current = cert.versions.find((v) => v.current);
  const window = current?.renewalWindow;
  return (
    <section class="card" aria-labelledby="facts-heading">
      <h2 id="facts-heading">Details</h2>
      <dl class="facts">
        <div>
          <dt>Names</dt>
          <dd>
            <ul class="plain">
              {cert.names.map((n) => (
                <li key={n} class="mono">
                  {n}
                </li>
              ))}
            </ul>
          </dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            {cert.notAfter ? (
              <>
                {formatDate(cert.notAfter)} · <DaysLeft notAfter={cert.notAfter} />
              </>
            ) : (
              'Not issued yet'
            )}
          </dd>
        </div>
        <div>
          <dt>Next renewal</dt>
          <dd>
            {cert.state === 'revoked'
              ? 'Never: revoked'
              : !cert.autoRenew
                ? 'Off: renew by hand'
                : cert.nextRenewalAt
                  ? `${formatDate(cert.nextRenewalAt)} (${relativeDays(cert.nextRenewalAt)})`
                  : 'After it is issued'}
          </dd>
        </div>
        {window && (
          <div>
            <dt>CA's renewal window</dt>
            <dd>
              {formatTime(window.start)} to {formatTime(window.end)}
            </dd>
          </div>
        )}
        <div>
          <dt>CA</dt>
          <dd class="break">{cert.cas.join(', then ')}</dd>
        </div>
        <div>
          <dt>Key type</dt>
          <dd>{KEY_TYPES[cert.keyType] ?? cert.keyType}</dd>
        </div>
        <div>
          <dt>Profile</dt>
          <dd>{cert.profile ?? "The CA's default"}</dd>
        </div>
        <div>
          <dt>Challenge</dt>
          <dd>
            {CHALLENGES[cert.challengeType] ?? cert.challengeType},{' '}
            {cert.answeredBy === 'client' ? 'answered by you' : 'answered by certkeep'}
          </dd>
        </div>
        {cert.serial && (
          <div>
            <dt>Serial</dt>
            <dd class="mono break">{cert.serial}</dd>
          </div>
        )}
      </dl>
    </section>
  );
}

const FILES = [
  { format: 'cert', label: 'PEM', what: 'The certificate alone', secret: false },
  {
    format: 'fullchain',
    label: 'Full chain',
    what: 'Certificate and intermediates, for most web servers',
    secret: false,
  },
  { format: 'chain', label: 'Chain', what: 'The intermediates only', secret: false },
  { format: 'der', label: 'DER', what: 'The certificate in binary form', secret: false },
  { format: 'key', label: 'Key', what: 'The private key, PEM', secret: true },
  {
    format: 'pfx',
    label: 'PFX',
    what: 'Certificate, chain and key (PKCS#12), under the PFX password',
    secret: true,
  },
];

function Downloads({ cert, path, mayWrite }: { cert: CertificateDetails; path: string; mayWrite: boolean }) {
  return (
    <section class="card" aria-labelledby="downloads-heading">
      <h2 id="downloads-heading">Downloads</h2>
      {!cert.serial ? (
        <Empty title="Nothing to download yet">
          <p>The files appear here as soon as the certificate is issued.</p>
        </Empty>
      ) : (
        <ul class="downloads">
          {FILES.filter((f) => !f.secret || mayWrite).map((f) => {
            const unavailable = f.format === 'pfx' && !cert.hasPfxPassword;
            return (
              <li key={f.format}>
                {unavailable ? (
                  <span class="button button-secondary button-small disabled" aria-disabled="true">
                    {f.label}
                  </span>
                ) : (
                  <a
                    class="button button-secondary button-small"
                    href={`/api/v1${path}/files/${f.format}`}
                    download
                  >
                    {f.label}
                  </a>
                )}
                <span class="muted small">
                  {unavailable ? 'Needs a PFX password, set when the certificate is created' : f.what}
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {!mayWrite && cert.serial && (
        <p class="hint">The private key and the PFX file need the operator or admin role.</p>
      )}
    </section>
  );
}

function Deployments({ cert }: { cert: CertificateDetails }) {
  return (
    <section class="card card-flush" aria-labelledby="deployments-heading">
      <h2 id="deployments-heading" class="card-title">
        Deployments
      </h2>
      <p class="card-intro muted">Where the current version goes, and whether it is served there.</p>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Host</th>
            <th scope="col">Directory</th>
            <th scope="col">Serial</th>
            <th scope="col">Status</th>
            <th scope="col">Verified</th>
          </tr>
        </thead>
        <tbody>
          {cert.deployments!.map((d) => (
            <tr key={d.target}>
              <td data-label="Host">
                <div>
                  {d.host ?? '—'}
                  {d.agent ? <span class="muted small"> (agent)</span> : null}
                </div>
              </td>
              <td data-label="Directory" class="mono">
                {d.directory}
              </td>
              <td data-label="Serial" class="mono">
                {d.serial ?? '—'}
              </td>
              <td data-label="Status">
                <div>
                  <span class={d.status === 'failed' ? 'pill pill-bad' : 'pill'}>{DEPLOYMENT_WORDS[d.status]}</span>
                  {d.error && <p class="small deployment-error">{d.error}</p>}
                </div>
              </td>
              <td data-label="Verified">{formatTime(d.verifiedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

const DEPLOYMENT_WORDS: Record<string, string> = { pending: 'Pending', deployed: 'Deployed', failed: 'Failed' };

function Versions({ cert }: { cert: CertificateDetails }) {
  if (cert.versions.length === 0) return null;
  return (
    <section class="card card-flush" aria-labelledby="versions-heading">
      <h2 id="versions-heading" class="card-title">
        Versions
      </h2>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Serial</th>
            <th scope="col">From</th>
            <th scope="col">Until</th>
            <th scope="col">In use</th>
          </tr>
        </thead>
        <tbody>
          {cert.versions.map((v) => (
            <tr key={v.id}>
              <td data-label="Serial" class="mono break">
                {v.serial}
              </td>
              <td data-label="From">{formatDate(v.notBefore)}</td>
              <td data-label="Until">{formatDate(v.notAfter)}</td>
              <td data-label="In use">{v.current ? 'Current' : 'Earlier'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function History({ cert }: { cert: CertificateDetails }) {
  return (
    <section class="card" aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      {cert.events.length === 0 ? (
        <Empty title="Nothing has happened to this certificate yet" />
      ) : (
        <ul class="rows">
          {cert.events.map((event) => (
            <li key={event.id} class="row-wrap">
              <span class={`dot dot-${eventTone(event.type)}`} aria-hidden="true" />
              <span class="event-word">{eventWord(event.type)}</span>
              {typeof event.payload.error === 'string' && (
                <span class="error-text small">{event.payload.error}</span>
              )}
              <time class="muted small push" dateTime={event.createdAt}>
                {formatTime(event.createdAt)}
              </time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
