// Loading and error states: an error says what went wrong in the server's words.
import type { ComponentChildren } from 'preact';
import type { Loadable } from '../api';

export function ErrorBox({ error, title }: { error: Error | string; title?: string }) {
  const msg = typeof error === 'string' ? error : error.message;
  return (
    <div class="error" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <div class="error-msg">{msg}</div>
    </div>
  );
}

export function Loading({ what }: { what?: string }) {
  return <div class="loading">Loading{what ? ` ${what}` : ''}…</div>;
}

/** Renders children(value) once ready, else the loading or error state. */
export function Show<T>({ data, what, children }: { data: Loadable<T>; what?: string; children: (v: T) => ComponentChildren }) {
  if (data.state === 'loading') return <Loading what={what} />;
  if (data.state === 'error') return <ErrorBox error={data.error} title={what ? `Could not load ${what}` : undefined} />;
  return <>{children(data.value)}</>;
}

export function Panel({ title, children, right, id }: { title: string; children: ComponentChildren; right?: ComponentChildren; id?: string }) {
  return (
    <section class="panel" id={id}>
      <header>
        <h3>{title}</h3>
        {right}
      </header>
      <div class="panel-body">{children}</div>
    </section>
  );
}
