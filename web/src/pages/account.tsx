// The signed-in person's account: who they are, and their password. A
// one-time password must be replaced here before anything else is shown.
import { useState } from 'preact/hooks';
import { ApiError, api, type Me, messageOf } from '../api.ts';
import { Field, Notice, PageTitle } from '../ui.tsx';

const ROLE_WORDS = {
  viewer: 'Viewer: sees certificates and settings, never private keys.',
  operator: 'Operator: also creates, renews, revokes and deletes certificates, and downloads keys.',
  admin: 'Admin: also manages users, API keys, DNS zones, webhooks and notifications.',
};

function PasswordForm({ onChanged, knownCurrent }: { onChanged: () => void; knownCurrent?: boolean }) {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const next = String(form.get('newPassword'));
    setError(undefined);
    setDone(false);
    if (next !== String(form.get('repeat'))) {
      setErrors({ repeat: 'The two new passwords differ; type the same one twice.' });
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      await api('POST', '/session/password', {
        currentPassword: String(form.get('currentPassword')),
        newPassword: next,
      });
      formElement.reset();
      setDone(true);
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && Object.keys(e.fields).length > 0) setErrors(e.fields);
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} class="stack form-narrow" noValidate>
      {error && <Notice>{error}</Notice>}
      {done && <Notice kind="success">Your password is changed. Your other sessions have ended.</Notice>}
      <Field
        label={knownCurrent ? 'One-time password' : 'Current password'}
        name="currentPassword"
        type="password"
        autocomplete="current-password"
        required
        error={errors.currentPassword}
      />
      <Field
        label="New password"
        name="newPassword"
        type="password"
        autocomplete="new-password"
        required
        minLength={12}
        hint="At least 12 characters. A few unrelated words make a good one."
        error={errors.newPassword}
      />
      <Field
        label="Repeat the new password"
        name="repeat"
        type="password"
        autocomplete="new-password"
        required
        error={errors.repeat}
      />
      <div>
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Change password'}
        </button>
      </div>
    </form>
  );
}

export function ChangePasswordPage({ me, onChanged }: { me: Me; onChanged: () => void }) {
  return (
    <main class="center-page" id="main">
      <div class="auth-card">
        <div class="auth-brand">
          <span class="brand-mark" aria-hidden="true" />
          certkeep
        </div>
        <PageTitle title="Choose your password">Choose your own password</PageTitle>
        <p class="muted">
          You signed in as {me.user?.email} with a one-time password. Replace it with one only you know to
          continue.
        </p>
        <PasswordForm onChanged={onChanged} knownCurrent />
      </div>
    </main>
  );
}

export function AccountPage({ me }: { me: Me }) {
  const user = me.user!;
  return (
    <div class="stack-lg">
      <PageTitle title="Your account">Your account</PageTitle>
      <section class="card">
        <dl class="facts">
          <div>
            <dt>Email</dt>
            <dd>{user.email}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>{ROLE_WORDS[user.role]}</dd>
          </div>
          <div>
            <dt>Subscription</dt>
            <dd class="mono">{me.subscriptionId}</dd>
          </div>
        </dl>
      </section>
      <section class="card stack" aria-labelledby="password-heading">
        <h2 id="password-heading">Change your password</h2>
        <p class="muted">Changing it signs you out everywhere else.</p>
        <PasswordForm onChanged={() => {}} />
      </section>
    </div>
  );
}
