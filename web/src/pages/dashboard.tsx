// The dashboard: certificates by state, what expires soon, what fails to renew,
// expiries over the next 90 days, and what happened last — kept current from
// the event stream.
import { api, type Dashboard, type Me } from '../api.ts';
import { useLive } from '../live.ts';
import { Link } from '../router.tsx';
import {
  DaysLeft,
  Empty,
  eventTone,
  eventWord,
  formatTime,
  Loading,
  Notice,
  PageTitle,
  relativeDays,
  useDebounced,
  useResource,
} from '../ui.tsx';

const CARDS = [
  { state: 'valid', label: 'Valid', tone: 'good' },
  { state: 'issuing', label: 'Being issued', tone: 'info' },
  { state: 'failed', label: 'Failed', tone: 'bad' },
  { state: 'revoked', label: 'Revoked', tone: 'neutral' },
] as const;

export function DashboardPage({ me }: { me: Me }) {
  const board = useResource(() => api<Dashboard>('GET', '/dashboard'), []);
  const refresh = useDebounced(board.reload, 300);
  useLive(refresh);
  const mayCreate = me.scopes.includes('write');
  return (
    <div class="stack-lg">
      <PageTitle
        title="Dashboard"
        actions={
          mayCreate && (
            <Link href="/new-certificate" class="button button-primary">
              Add a certificate
            </Link>
          )
        }
      >
        Overview
      </PageTitle>
      {board.error && <Notice>{board.error}</Notice>}
      {!board.data ? (
        !board.error && <Loading what="the overview" />
      ) : board.data.counts.total === 0 ? (
        <div class="card">
          <Empty title="No certificates yet">
            <p>Certificates you add here are issued, renewed before they expire and kept safe.</p>
            {mayCreate ? (
              <Link href="/new-certificate" class="button button-primary">
                Add your first certificate
              </Link>
            ) : (
              <p class="muted">Ask an operator or admin of your subscription to add one.</p>
            )}
          </Empty>
        </div>
      ) : (
        <Overview data={board.data} />
      )}
    </div>
  );
}

function Overview({ data }: { data: Dashboard }) {
  return (
    <>
      <section aria-label="Certificates by state" class="stats">
        {CARDS.map((card) => (
          <Link key={card.state} href={`/certificates?state=${card.state}`} class={`stat stat-${card.tone}`}>
            <span class="stat-value">{(data.counts.byState[card.state] ?? 0).toLocaleString()}</span>
            <span class="stat-label">{card.label}</span>
          </Link>
        ))}
        <Link
          href="/certificates?expiry=30"
          class={`stat ${data.expiring.count > 0 ? 'stat-warn' : 'stat-neutral'}`}
        >
          <span class="stat-value">{data.expiring.count.toLocaleString()}</span>
          <span class="stat-label">Expire within {data.expiring.withinDays} days</span>
        </Link>
      </section>
      <section class="card" aria-labelledby="chart-heading">
        <div class="card-head">
          <h2 id="chart-heading">Expiries in the next 90 days</h2>
          {data.expiryHistogram.some((n) => n > 0) && (
            <span class="muted">
              {data.expiryHistogram.reduce((a, b) => a + b, 0).toLocaleString()} certificates, by week
            </span>
          )}
        </div>
        {data.expiryHistogram.some((n) => n > 0) ? (
          <ExpiryChart days={data.expiryHistogram} />
        ) : (
          <Empty title="No certificate expires in the next 90 days" />
        )}
      </section>
      <div class="columns">
        <section class="card" aria-labelledby="soon-heading">
          <div class="card-head">
            <h2 id="soon-heading">Expiring soon</h2>
            {data.expiring.expired > 0 && <span class="pill pill-bad">{data.expiring.expired} expired</span>}
          </div>
          {data.expiring.soonest.length === 0 ? (
            <Empty title="Nothing expires within 30 days" />
          ) : (
            <ul class="rows">
              {data.expiring.soonest.map((c) => (
                <li key={c.name}>
                  <Link href={`/certificates/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                  <DaysLeft notAfter={c.notAfter} />
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="failing-heading">
          <div class="card-head">
            <h2 id="failing-heading">Failing renewals</h2>
            {data.failing.count > 0 && <span class="pill pill-bad">{data.failing.count}</span>}
          </div>
          {data.failing.certificates.length === 0 ? (
            <Empty title="Every renewal is on track" />
          ) : (
            <ul class="rows">
              {data.failing.certificates.map((c) => (
                <li key={c.name} class="row-wrap">
                  <Link href={`/certificates/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                  <span class="muted small">
                    {c.failures} {c.failures === 1 ? 'failure' : 'failures'}
                    {c.retryAt ? `, next try ${relativeDays(c.retryAt)}` : ''}
                  </span>
                  {c.lastError && <p class="error-text small">{c.lastError}</p>}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="events-heading">
        <div class="card-head">
          <h2 id="events-heading">Recent activity</h2>
        </div>
        {data.recentEvents.length === 0 ? (
          <Empty title="Nothing has happened yet" />
        ) : (
          <ul class="rows">
            {data.recentEvents.map((event) => (
              <li key={event.id}>
                <span class={`dot dot-${eventTone(event.type)}`} aria-hidden="true" />
                <span class="event-word">{eventWord(event.type)}</span>
                {event.certificate ? (
                  <Link href={`/certificates/${encodeURIComponent(event.certificate)}`}>
                    {event.certificate}
                  </Link>
                ) : (
                  <span>{String(event.payload.name ?? '')}</span>
                )}
                <time class="muted small push" dateTime={event.createdAt}>
                  {formatTime(event.createdAt)}
                </time>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** Weekly bars (13 weeks) drawn in SVG; a table says the same for screen readers. */
function ExpiryChart({ days }: { days: number[] }) {
  const weeks = Array.from({ length: Math.ceil(days.length / 7) }, (_, w) =>
    days.slice(w * 7, w * 7 + 7).reduce((a, b) => a + b, 0),
  );
  const max = Math.max(1, ...weeks);
  const width = 100 / weeks.length;
  return (
    <div class="chart">
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" aria-hidden="true" class="chart-svg">
        {weeks.map((count, i) => {
          const height = count === 0 ? 0.4 : Math.max(1.5, (count / max) * 38);
          return (
            <rect
              key={i}
              x={i * width + width * 0.15}
              y={40 - height}
              width={width * 0.7}
              height={height}
              rx="0.6"
              class={i < 1 ? 'bar bar-urgent' : i < 5 ? 'bar bar-soon' : 'bar'}
            />
          );
        })}
      </svg>
      <div class="chart-axis" aria-hidden="true">
        {weeks.map((count, i) => (
          <span key={i}>
            <strong>{count || ''}</strong>
            {i % 2 === 0 ? `wk ${i + 1}` : ''}
          </span>
        ))}
      </div>
      <table class="visually-hidden">
        <caption>Certificates expiring each week</caption>
        <thead>
          <tr>
            <th scope="col">Week from today</th>
            <th scope="col">Expiring</th>
          </tr>
        </thead>
        <tbody>
          {weeks.map((count, i) => (
            <tr key={i}>
              <td>{i + 1}</td>
              <td>{count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
