// The portal's small building blocks: data loading, headings that take focus
// when a page opens, fields with their labels and errors, state badges, a
// confirmation dialog, copy buttons, dates in words.
import type { ComponentChildren, PartialInputHTMLAttributes } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './api.ts';

export interface Resource<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads with `load` whenever `deps` change; `reload` reads again without clearing what is shown. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[]): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, loading: false }),
      (error) =>
        mine === generation.current &&
        setState((s) => ({ data: s.data, error: messageOf(error), loading: false })),
    );
  }, deps);
  useEffect(run, [run]);
  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}

/** Runs `fn` at most once per `ms`, at the end of a burst. */
export function useDebounced(fn: () => void, ms: number): () => void {
  const timer = useRef<number | undefined>(undefined);
  const current = useRef(fn);
  current.current = fn;
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => current.current(), ms);
  }, [ms]);
}

/** The page's heading: it names the tab and takes the focus, so that a screen reader announces the new page. */
export function PageTitle({
  children,
  title,
  actions,
}: {
  children: ComponentChildren;
  title: string;
  actions?: ComponentChildren;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · certkeep`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div class="page-head">
      <h1 ref={heading} tabIndex={-1}>
        {children}
      </h1>
      {actions && <div class="page-actions">{actions}</div>}
    </div>
  );
}

const STATE_WORDS: Record<string, string> = {
  valid: 'Valid',
  issuing: 'Issuing',
  failed: 'Failed',
  revoked: 'Revoked',
  pending: 'Pending',
};

export function stateWord(state: string): string {
  return STATE_WORDS[state] ?? state.charAt(0).toUpperCase() + state.slice(1);
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge badge-${state}`}>{stateWord(state)}</span>;
}

type FieldProps = {
  label: string;
  name: string;
  hint?: ComponentChildren;
  error?: string;
  children?: ComponentChildren;
} & Omit<PartialInputHTMLAttributes<HTMLInputElement>, 'name'>;

/** A labelled input with its hint and its error, tied together for assistive technology. */
export function Field({ label, name, hint, error, children, ...input }: FieldProps) {
  const id = `field-${name}`;
  const described =
    [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={id}>{label}</label>
      {children ?? (
        <input
          id={id}
          name={name}
          aria-describedby={described}
          aria-invalid={error ? true : undefined}
          {...(input as Record<string, unknown>)}
        />
      )}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function Notice({
  kind = 'error',
  children,
}: {
  kind?: 'error' | 'info' | 'success' | 'warning';
  children: ComponentChildren;
}) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children && <div class="empty-body">{children}</div>}
    </div>
  );
}

/** A button that asks first, in a modal dialog, and shows what went wrong if the action fails. */
export function ConfirmButton({
  label,
  title,
  confirm,
  children,
  danger,
  onConfirm,
  small,
}: {
  label: string;
  title: string;
  confirm: string;
  children?: ComponentChildren;
  danger?: boolean;
  small?: boolean;
  onConfirm: () => Promise<void>;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const close = () => {
    dialog.current?.close();
    setError(undefined);
  };
  const act = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      dialog.current?.close();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class={`button ${danger ? 'button-danger-outline' : 'button-secondary'}${small ? ' button-small' : ''}`}
        onClick={() => dialog.current?.showModal()}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={`${title}-title`} onClose={() => setError(undefined)}>
        <h2 id={`${title}-title`}>{title}</h2>
        <div class="dialog-body">{children}</div>
        {error && <Notice>{error}</Notice>}
        <div class="dialog-actions">
          <button type="button" class="button button-secondary" onClick={close} autofocus>
            Cancel
          </button>
          <button
            type="button"
            class={`button ${danger ? 'button-danger' : 'button-primary'}`}
            onClick={act}
            disabled={busy}
          >
            {busy ? 'Working…' : confirm}
          </button>
        </div>
      </dialog>
    </>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without clipboard access (plain HTTP on another host), select the text instead.
      const range = document.createRange();
      const target = document.querySelector(`[data-copy="${CSS.escape(text)}"]`);
      if (target) {
        range.selectNodeContents(target);
        getSelection()?.removeAllRanges();
        getSelection()?.addRange(range);
      }
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <button
      type="button"
      class="button button-secondary button-small copy"
      onClick={copy}
      aria-label={`Copy ${label}`}
    >
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

const DAY = 86_400_000;

export function daysLeft(notAfter: string | null, now = Date.now()): number | null {
  return notAfter === null ? null : Math.floor((Date.parse(notAfter) - now) / DAY);
}

/** "in 12 days", "today", "3 days ago". */
export function relativeDays(time: string, now = Date.now()): string {
  const days = Math.round((Date.parse(time) - now) / DAY);
  if (days === 0) return 'today';
  if (days === 1) return 'tomorrow';
  if (days === -1) return 'yesterday';
  return days > 0 ? `in ${days} days` : `${-days} days ago`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function formatDate(time: string | null): string {
  return time ? dateFormat.format(new Date(time)) : '—';
}

export function formatTime(time: string | null): string {
  return time ? timeFormat.format(new Date(time)) : '—';
}

/** Days left as a person reads it, with a class for its urgency. */
export function DaysLeft({ notAfter }: { notAfter: string | null }) {
  const days = daysLeft(notAfter);
  if (days === null) return <span class="muted">Not issued</span>;
  const level = days < 0 ? 'expired' : days <= 7 ? 'urgent' : days <= 30 ? 'soon' : 'fine';
  const text = days < 0 ? `Expired ${-days} d ago` : days === 0 ? 'Expires today' : `${days} days`;
  return <span class={`days days-${level}`}>{text}</span>;
}

const EVENT_WORDS: Record<string, string> = {
  'certificate.issued': 'Issued',
  'certificate.renewed': 'Renewed',
  'certificate.revoked': 'Revoked',
  'certificate.deleted': 'Deleted',
  'certificate.expiring': 'Expires soon',
  'certificate.expired': 'Expired',
  'issuance.failed': 'Issuance failed',
  'renewal.failed': 'Renewal failed',
  'deployment.succeeded': 'Deployed',
  'deployment.failed': 'Deployment failed',
  'deployment.overdue': 'Deployment overdue',
};

export function eventWord(type: string): string {
  return EVENT_WORDS[type] ?? type;
}

export function eventTone(type: string): 'good' | 'bad' | 'neutral' {
  if (type.endsWith('failed') || type === 'certificate.expired' || type === 'deployment.overdue')
    return 'bad';
  if (type === 'certificate.issued' || type === 'certificate.renewed' || type === 'deployment.succeeded')
    return 'good';
  return 'neutral';
}
