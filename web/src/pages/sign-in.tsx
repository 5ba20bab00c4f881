// Signing in: Email, Password, Sign in. A wrong password says so without
// saying whether the email exists; a locked account says for how long.
import { useState } from 'preact/hooks';
import { ApiError, api, type Me, messageOf } from '../api.ts';
import { Field, Notice, PageTitle } from '../ui.tsx';

export function SignInPage({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(
        await api<Me>('POST', '/session', {
          email: String(form.get('email')),
          password: String(form.get('password')),
        }),
      );
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 400 ? 'Enter your email and your password.' : messageOf(e),
      );
      setBusy(false);
    }
  };
  return (
    <main class="center-page" id="main">
      <div class="auth-card">
        <div class="auth-brand">
          <span class="brand-mark" aria-hidden="true" />
          certkeep
        </div>
        <PageTitle title="Sign in">Sign in to your certificates</PageTitle>
        <form onSubmit={submit} class="stack" noValidate>
          {error && <Notice>{error}</Notice>}
          <Field label="Email" name="email" type="email" autocomplete="username" required autofocus />
          <Field label="Password" name="password" type="password" autocomplete="current-password" required />
          <button type="submit" class="button button-primary button-wide" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <p class="hint auth-foot">
          No account yet? An admin of your subscription can add you, or on the server: certkeep admin user
          create.
        </p>
      </div>
    </main>
  );
}
