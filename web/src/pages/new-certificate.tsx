// A new certificate: its names, who answers the challenges (certkeep, or you
// from the tokens it shows), the DNS zone each name falls in, key type, CA,
// profile and PFX password. Create opens its page, where the order's progress
// shows live.
import { useState } from 'preact/hooks';
import { ApiError, api, type Me, messageOf, type Zone } from '../api.ts';
import { Link, navigate } from '../router.tsx';
import { Field, Notice, PageTitle, useResource } from '../ui.tsx';

const KEY_TYPES = [
  { value: 'ec-p256', label: 'ECDSA P-256 (recommended)' },
  { value: 'ec-p384', label: 'ECDSA P-384' },
  { value: 'rsa-2048', label: 'RSA 2048 (for old clients)' },
  { value: 'rsa-3072', label: 'RSA 3072' },
  { value: 'rsa-4096', label: 'RSA 4096' },
];

/** The managed zone that holds a name's challenge record: the longest suffix of _acme-challenge.<name>. */
export function zoneOf(name: string, zones: Zone[]): Zone | undefined {
  const record = `_acme-challenge.${name.replace(/^\*\./, '')}`.toLowerCase();
  return zones
    .filter((z) => record === z.zone || record.endsWith(`.${z.zone}`))
    .sort((a, b) => b.zone.length - a.zone.length)[0];
}

export function NewCertificatePage({ me }: { me: Me }) {
  const zones = useResource(() => api<{ zones: Zone[] }>('GET', '/zones'), []);
  const [namesText, setNamesText] = useState('');
  const [answeredBy, setAnsweredBy] = useState<'certkeep' | 'client'>('certkeep');
  const [challenge, setChallenge] = useState<'http-01' | 'dns-01'>('http-01');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const names = namesText
    .split(/[\s,]+/)
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  const wildcard = names.some((n) => n.startsWith('*.'));
  const type = wildcard ? 'dns-01' : challenge;
  const known = zones.data?.zones ?? [];
  const outside = type === 'dns-01' ? names.filter((n) => !zoneOf(n, known)) : [];

  if (!me.scopes.includes('write')) {
    return (
      <div class="stack-lg">
        <PageTitle title="New certificate">New certificate</PageTitle>
        <Notice kind="info">
          Your role (viewer) cannot create certificates; an operator or admin of your subscription can.
        </Notice>
      </div>
    );
  }

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const text = (key: string) => String(form.get(key) ?? '').trim() || undefined;
    if (names.length === 0) {
      setErrors({ names: 'Enter at least one name, such as www.example.com.' });
      return;
    }
    setBusy(true);
    setErrors({});
    setError(undefined);
    try {
      const body = {
        names,
        name: text('name'),
        answeredBy,
        challengeType: type,
        keyType: text('keyType'),
        ca: text('ca'),
        profile: text('profile'),
        pfxPassword: text('pfxPassword'),
      };
      const created = await api<{ certificate: { name: string } }>('POST', '/certificates', body);
      navigate(`/certificates/${encodeURIComponent(created.certificate.name)}`);
    } catch (e) {
      if (e instanceof ApiError)
        setErrors(
          Object.fromEntries(
            Object.entries(e.fields).map(([field, message]) => [field.split('.')[0], message]),
          ),
        );
      setError(messageOf(e));
      setBusy(false);
    }
  };

  return (
    <div class="stack-lg">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/certificates">Back to the list</Link>
      </nav>
      <PageTitle title="New certificate">New certificate</PageTitle>
      <form onSubmit={submit} class="card stack form" noValidate>
        {error && <Notice>{error}</Notice>}
        <Field
          label="Names"
          name="names"
          hint="One name per line, e.g. example.com and www.example.com. A wildcard (*.example.com) needs DNS."
          error={errors.names}
        >
          <textarea
            id="field-names"
            name="names"
            rows={4}
            required
            spellcheck={false}
            autocapitalize="off"
            aria-describedby="field-names-hint"
            aria-invalid={errors.names ? true : undefined}
            value={namesText}
            onInput={(e) => setNamesText((e.target as HTMLTextAreaElement).value)}
            autofocus
          />
        </Field>

        <fieldset class="choice">
          <legend>Who answers the CA's challenges</legend>
          <label class="option">
            <input
              type="radio"
              name="answeredBy"
              value="certkeep"
              checked={answeredBy === 'certkeep'}
              onChange={() => setAnsweredBy('certkeep')}
            />
            <span>
              <strong>certkeep answers them</strong>
              <span class="hint">
                It serves the HTTP file or writes the DNS record itself, and renews on its own.
              </span>
            </span>
          </label>
          <label class="option">
            <input
              type="radio"
              name="answeredBy"
              value="client"
              checked={answeredBy === 'client'}
              onChange={() => setAnsweredBy('client')}
            />
            <span>
              <strong>I place the tokens myself</strong>
              <span class="hint">certkeep shows each record or file to create, then you click Validate.</span>
            </span>
          </label>
        </fieldset>

        <fieldset class="choice">
          <legend>How control of the names is proven</legend>
          <label class="option">
            <input
              type="radio"
              name="challenge"
              value="http-01"
              checked={type === 'http-01'}
              disabled={wildcard}
              onChange={() => setChallenge('http-01')}
            />
            <span>
              <strong>HTTP</strong>
              <span class="hint">A file under /.well-known/acme-challenge/ on port 80 of each name.</span>
            </span>
          </label>
          <label class="option">
            <input
              type="radio"
              name="challenge"
              value="dns-01"
              checked={type === 'dns-01'}
              onChange={() => setChallenge('dns-01')}
            />
            <span>
              <strong>DNS</strong>
              <span class="hint">A TXT record at _acme-challenge.&lt;name&gt;. Needed for wildcards.</span>
            </span>
          </label>
        </fieldset>

        {type === 'dns-01' && names.length > 0 && (
          <div class="zones-preview" aria-live="polite">
            <p class="label-like">DNS zone of each name</p>
            <ul class="plain">
              {names.map((n) => {
                const zone = zoneOf(n, known);
                return (
                  <li key={n}>
                    <span class="mono">{n}</span>:{' '}
                    {zone ? `zone ${zone.zone} (${zone.provider})` : 'no managed zone'}
                  </li>
                );
              })}
            </ul>
            {answeredBy === 'certkeep' && outside.length > 0 && (
              <Notice kind="warning">
                certkeep can write records only in the zones it manages. Add the zone under{' '}
                <Link href="/settings/zones">Settings</Link>, or choose “I place the tokens myself”.
              </Notice>
            )}
          </div>
        )}

        <div class="grid-2">
          <Field label="Key type" name="keyType" error={errors.keyType}>
            <select id="field-keyType" name="keyType">
              {KEY_TYPES.map((k) => (
                <option key={k.value} value={k.value}>
                  {k.label}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Certificate name (optional)"
            name="name"
            hint="How it is listed; the first name if left empty."
            error={errors.name}
            spellcheck={false}
            autocapitalize="off"
          />
          <Field
            label="CA (optional)"
            name="ca"
            type="url"
            placeholder="https://…/directory"
            hint="An ACME directory URL; empty for the server's default CA."
            error={errors.ca}
          />
          <Field
            label="Profile (optional)"
            name="profile"
            hint="A certificate profile the CA offers, e.g. shortlived."
            error={errors.profile}
          />
          <Field
            label="PFX password (optional)"
            name="pfxPassword"
            type="password"
            autocomplete="new-password"
            hint="Protects the PFX file; without one there is no PFX download."
            error={errors.pfxPassword}
          />
        </div>

        <div class="form-actions">
          <button type="submit" class="button button-primary" disabled={busy}>
            {busy ? 'Creating…' : 'Create'}
          </button>
          <Link href="/certificates" class="button button-ghost">
            Cancel
          </Link>
        </div>
      </form>
    </div>
  );
}
