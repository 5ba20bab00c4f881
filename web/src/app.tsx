// The portal's frame: who is signed in (GET /api/v1/session), the sign-in and
// password pages before anything else, then the navigation and the page the
// address names.
import { useEffect, useState } from 'preact/hooks';
import { api, type Me, setSession } from './api.ts';
import { closeLive } from './live.ts';
import { AccountPage, ChangePasswordPage } from './pages/account.tsx';
import { CertificatePage } from './pages/certificate.tsx';
import { CertificatesPage } from './pages/certificates.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { NewCertificatePage } from './pages/new-certificate.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { Link, navigate, useLocation } from './router.tsx';
import { Loading, Notice } from './ui.tsx';

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [failure, setFailure] = useState<string>();
  const { path } = useLocation();

  const signedOut = () => {
    closeLive();
    setSession(null);
    setMe(null);
  };

  useEffect(() => {
    api<Me>('GET', '/session').then(
      (who) => {
        setSession(who, signedOut);
        setMe(who);
      },
      (error) => {
        if (error.status === 401) {
          setSession(null, signedOut);
          setMe(null);
        } else setFailure(error.message);
      },
    );
  }, []);

  if (failure) {
    return (
      <main class="center-page" id="main">
        <Notice>{failure}</Notice>
      </main>
    );
  }
  if (me === undefined) {
    return (
      <main class="center-page" id="main">
        <Loading what="the portal" />
      </main>
    );
  }
  const signedIn = (who: Me) => {
    setSession(who, signedOut);
    setMe(who);
    if (path === '/sign-in') {
      const next = new URLSearchParams(location.search).get('next');
      navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    }
  };
  if (!me?.user) return <SignInPage onSignedIn={signedIn} />;
  if (me.user.mustChangePassword)
    return (
      <ChangePasswordPage
        me={me}
        onChanged={() => setMe({ ...me, user: { ...me.user!, mustChangePassword: false } })}
      />
    );
  return (
    <Shell me={me} onSignedOut={signedOut}>
      <Page path={path} me={me} />
    </Shell>
  );
}

function Page({ path, me }: { path: string; me: Me }) {
  if (path === '/' || path === '/sign-in') return <DashboardPage me={me} />;
  if (path === '/certificates') return <CertificatesPage me={me} />;
  if (path === '/new-certificate') return <NewCertificatePage me={me} />;
  if (path.startsWith('/certificates/'))
    return <CertificatePage me={me} name={decodeURIComponent(path.slice('/certificates/'.length))} />;
  if (path === '/settings' || path.startsWith('/settings/'))
    return <SettingsPage me={me} section={path.split('/')[2] ?? ''} />;
  if (path === '/account') return <AccountPage me={me} />;
  return (
    <div class="stack">
      <h1>Page not found</h1>
      <p>
        There is no page at {path}. Go to the <Link href="/">dashboard</Link>.
      </p>
    </div>
  );
}

const NAV = [
  { href: '/', label: 'Dashboard', match: (p: string) => p === '/' },
  {
    href: '/certificates',
    label: 'Certificates',
    match: (p: string) => p.startsWith('/certificates') || p === '/new-certificate',
  },
  { href: '/settings', label: 'Settings', match: (p: string) => p.startsWith('/settings') },
];

function Shell({
  me,
  onSignedOut,
  children,
}: {
  me: Me;
  onSignedOut: () => void;
  children: preact.ComponentChildren;
}) {
  const { path } = useLocation();
  const signOut = async () => {
    try {
      await api('DELETE', '/session');
    } finally {
      onSignedOut();
      navigate('/sign-in', { replace: true });
    }
  };
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link href="/" class="brand" aria-label="certkeep, dashboard">
            <span class="brand-mark" aria-hidden="true" />
            certkeep
          </Link>
          <nav aria-label="Main" class="mainnav">
            {NAV.map((item) => (
              <Link key={item.href} href={item.href} aria-current={item.match(path) ? 'page' : undefined}>
                {item.label}
              </Link>
            ))}
          </nav>
          <div class="account">
            <Link
              href="/account"
              class="account-link"
              aria-current={path === '/account' ? 'page' : undefined}
            >
              <span class="account-email">{me.user!.email}</span>
              <span class="account-short">Your account</span>
              <span class="role">{me.user!.role}</span>
            </Link>
            <button type="button" class="button button-ghost button-small" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </header>
      <main id="main" class="content" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
