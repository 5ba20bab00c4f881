// The list: search, filters, sorting and pages, read from the server a page at a
// time (it stays quick with tens of thousands), with days left at a glance.
import { useEffect, useState } from 'preact/hooks';
import { api, type CertificateSummary, type Me } from '../api.ts';
import { useLive } from '../live.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import {
  DaysLeft,
  Empty,
  formatDate,
  Notice,
  PageTitle,
  StateBadge,
  useDebounced,
  useResource,
} from '../ui.tsx';

const PAGE_SIZE = 50;
const DAY = 86_400_000;

const EXPIRY = [
  { value: '', label: 'Any time' },
  { value: 'expired', label: 'Already expired' },
  { value: '7', label: 'Within 7 days' },
  { value: '30', label: 'Within 30 days' },
  { value: '90', label: 'Within 90 days' },
];

const SORTS = [
  { value: 'name', label: 'Name, A to Z' },
  { value: '-name', label: 'Name, Z to A' },
  { value: 'expiry', label: 'Expires soonest' },
  { value: '-expiry', label: 'Expires latest' },
  { value: 'state', label: 'State' },
];

interface Page {
  certificates: CertificateSummary[];
  total: number;
}

export function CertificatesPage({ me }: { me: Me }) {
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const state = query.get('state') ?? '';
  const expiry = query.get('expiry') ?? '';
  const sort = query.get('sort') ?? 'name';
  const page = Math.max(1, Number(query.get('page')) || 1);
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);

  const list = useResource(() => {
    const params = new URLSearchParams({
      sort,
      offset: String((page - 1) * PAGE_SIZE),
      limit: String(PAGE_SIZE),
    });
    if (q) params.set('q', q);
    if (state) params.set('state', state);
    if (expiry)
      params.set(
        'expiresBefore',
        new Date(expiry === 'expired' ? Date.now() : Date.now() + Number(expiry) * DAY).toISOString(),
      );
    return api<Page>('GET', `/certificates?${params}`);
  }, [q, state, expiry, sort, page]);
  useLive(useDebounced(list.reload, 500));
  // For bench:portal: the moment the first list is drawn (the frame after it is in the page).
  const drawn = Boolean(list.data);
  useEffect(() => {
    if (drawn)
      requestAnimationFrame(
        () =>
          performance.getEntriesByName('certificates-list-ready').length === 0 &&
          performance.mark('certificates-list-ready'),
      );
  }, [drawn]);

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(changes)) {
      if (value && !(key === 'sort' && value === 'name') && !(key === 'page' && value === '1'))
        next.set(key, value);
      else next.delete(key);
    }
    if (!('page' in changes)) next.delete('page');
    navigate(`/certificates${next.size > 0 ? `?${next}` : ''}`, { replace: true });
  };
  const typed = useDebounced(() => update({ q: search.trim() }), 250);
  const filtered = Boolean(q || state || expiry);
  const data = list.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / PAGE_SIZE)) : 1;

  return (
    <div class="stack-lg">
      <PageTitle
        title="Certificates"
        actions={
          me.scopes.includes('write') && (
            <Link href="/new-certificate" class="button button-primary">
              New certificate
            </Link>
          )
        }
      >
        All certificates
      </PageTitle>
      <search>
        <form class="toolbar" onSubmit={(e) => e.preventDefault()}>
          <div class="toolbar-search">
            <label for="search">Search</label>
            <input
              id="search"
              type="search"
              placeholder="Name or domain"
              value={search}
              onInput={(e) => {
                setSearch((e.target as HTMLInputElement).value);
                typed();
              }}
            />
          </div>
          <Select
            id="state"
            label="State"
            value={state}
            onChange={(v) => update({ state: v })}
            options={[
              { value: '', label: 'Every state' },
              { value: 'valid', label: 'Valid' },
              { value: 'issuing', label: 'Issuing' },
              { value: 'failed', label: 'Failed' },
              { value: 'revoked', label: 'Revoked' },
            ]}
          />
          <Select
            id="expiry"
            label="Expires"
            value={expiry}
            onChange={(v) => update({ expiry: v })}
            options={EXPIRY}
          />
          <Select
            id="sort"
            label="Sort by"
            value={sort}
            onChange={(v) => update({ sort: v })}
            options={SORTS}
          />
        </form>
      </search>
      {list.error && <Notice>{list.error}</Notice>}
      <section class="card card-flush" aria-labelledby="list-summary" aria-busy={list.loading}>
        <p id="list-summary" class="list-summary" aria-live="polite">
          {!data
            ? 'Loading certificates…'
            : data.total === 0
              ? 'No certificates match'
              : `${((page - 1) * PAGE_SIZE + 1).toLocaleString()}–${Math.min(page * PAGE_SIZE, data.total).toLocaleString()} of ${data.total.toLocaleString()}`}
        </p>
        {data && data.total === 0 ? (
          filtered ? (
            <Empty title="Nothing matches these filters">
              <button
                type="button"
                class="button button-secondary"
                onClick={() => navigate('/certificates', { replace: true })}
              >
                Clear the filters
              </button>
            </Empty>
          ) : (
            <Empty title="No certificates yet">
              <p>
                {me.scopes.includes('write')
                  ? 'Create your first one: certkeep issues it and renews it before it expires.'
                  : 'An operator or admin of your subscription can add one.'}
              </p>
            </Empty>
          )
        ) : (
          data && <Table certificates={data.certificates} />
        )}
        {data && pages > 1 && (
          <nav class="pager" aria-label="Pages">
            <button
              type="button"
              class="button button-secondary button-small"
              disabled={page <= 1}
              onClick={() => update({ page: String(page - 1) })}
            >
              Previous
            </button>
            <span>
              Page {page} of {pages.toLocaleString()}
            </span>
            <button
              type="button"
              class="button button-secondary button-small"
              disabled={page >= pages}
              onClick={() => update({ page: String(page + 1) })}
            >
              Next
            </button>
          </nav>
        )}
      </section>
    </div>
  );
}

function Table({ certificates }: { certificates: CertificateSummary[] }) {
  return (
    <table class="table cert-table">
      <caption class="visually-hidden">Certificates on this page</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">State</th>
          <th scope="col">Days left</th>
          <th scope="col">Expires</th>
          <th scope="col">Next renewal</th>
        </tr>
      </thead>
      <tbody>
        {certificates.map((c) => (
          <tr key={c.name}>
            <td data-label="Name">
              <Link href={`/certificates/${encodeURIComponent(c.name)}`} class="strong">
                {c.name}
              </Link>
              {c.names.length > 1 || c.names[0] !== c.name ? (
                <span class="muted small names">
                  {c.names.slice(0, 2).join(', ')}
                  {c.names.length > 2 ? ` +${c.names.length - 2}` : ''}
                </span>
              ) : null}
            </td>
            <td data-label="State">
              <StateBadge state={c.state} />
            </td>
            <td data-label="Days left">
              <DaysLeft notAfter={c.notAfter} />
            </td>
            <td data-label="Expires">{formatDate(c.notAfter)}</td>
            <td data-label="Next renewal">{c.state === 'revoked' ? '—' : formatDate(c.nextRenewalAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Select({
  id,
  label,
  value,
  options,
  onChange,
}: {
  id: string;
  label: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
}) {
  return (
    <div class="toolbar-field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}
