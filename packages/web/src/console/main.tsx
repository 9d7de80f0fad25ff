/**
 * The operator console: sign-in with an operator account (a cookie
 * session; the server enforces every right), then the views the signed-in
 * role may use, chosen by the location hash (#/fleet, #/device/<id>, …).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, whenSignedOut } from '../shared/api.js';
import { DevicePage } from './device.js';
import { Exceptions } from './exceptions.js';
import { Fleet } from './fleet.js';
import { Live } from './live.js';
import { Audit, Enrollment, LedgerSearch, Reconciliation } from './other.js';
import { Policies } from './policies.js';
import { Reports } from './reports.js';
import { Risk } from './risk.js';
import { type Session, sessionOf } from './session.js';
import type { SessionInfo } from './types.js';

interface View {
  path: string;
  title: string;
  /** The permission the view needs (the server would refuse its reads or actions without it). */
  needs: string;
}

const VIEWS: View[] = [
  { path: 'fleet', title: 'Fleet', needs: 'read' },
  { path: 'exceptions', title: 'Exceptions', needs: 'read' },
  { path: 'live', title: 'Live', needs: 'read' },
  { path: 'reconciliation', title: 'Reconciliation', needs: 'read' },
  { path: 'risk', title: 'Money at risk', needs: 'read' },
  { path: 'policies', title: 'Policies', needs: 'read' },
  { path: 'enroll', title: 'Enrollment', needs: 'devices.enroll' },
  { path: 'ledger', title: 'Ledger', needs: 'read' },
  { path: 'audit', title: 'Audit log', needs: 'audit.read' },
  { path: 'reports', title: 'Reports', needs: 'read' },
];

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function SignIn(props: { onSignedIn: (s: Session) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api('POST', '/v1/admin/session', { username, password, cookie: true });
      props.onSignedIn(sessionOf(await api<SessionInfo>('GET', '/v1/admin/session')));
    } catch (err) {
      // The server's own words: a wrong password, a locked account (with when to retry), an expired password…
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Holdfast console</h1>
      {props.notice ? <p class="notice">{props.notice}</p> : null}
      <form onSubmit={submit} data-form="signin">
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {error ? (
        <p class="error" data-signin-error>
          {error}
        </p>
      ) : null}
    </main>
  );
}

function Shell(props: { session: Session; onSignOut: () => void }) {
  const { session } = props;
  const hash = useHash();
  const [path, arg] = hash.replace(/^#\/?/, '').split('/');
  const views = VIEWS.filter((v) => session.may(v.needs));
  const current = views.find((v) => v.path === path) ?? (path === 'device' ? null : views[0]);
  const signOut = async () => {
    await api('DELETE', '/v1/admin/session').catch(() => undefined);
    props.onSignOut();
  };
  let body = null;
  if (path === 'device' && arg) body = <DevicePage id={decodeURIComponent(arg)} session={session} />;
  else if (current?.path === 'fleet') body = <Fleet />;
  else if (current?.path === 'exceptions') body = <Exceptions session={session} />;
  else if (current?.path === 'live') body = <Live />;
  else if (current?.path === 'reconciliation') body = <Reconciliation />;
  else if (current?.path === 'risk') body = <Risk />;
  else if (current?.path === 'policies') body = <Policies session={session} />;
  else if (current?.path === 'enroll') body = <Enrollment />;
  else if (current?.path === 'ledger') body = <LedgerSearch />;
  else if (current?.path === 'audit') body = <Audit />;
  else if (current?.path === 'reports') body = <Reports />;
  return (
    <>
      <header>
        <b>Holdfast</b>
        <nav>
          {views.map((v) => (
            <a key={v.path} href={`#/${v.path}`} class={current?.path === v.path ? 'on' : ''} data-nav={v.path}>
              {v.title}
            </a>
          ))}
        </nav>
        <span class="who" data-who>
          {session.info.username} ({session.info.role})
        </span>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>{body}</main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checked, setChecked] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    whenSignedOut(() => {
      setSession(null);
      setNotice('Your session has ended: sign in again.');
    });
    api<SessionInfo>('GET', '/v1/admin/session')
      .then((info) => setSession(sessionOf(info)))
      .catch(() => setSession(null))
      .finally(() => setChecked(true));
  }, []);
  if (!checked) return <p>Loading…</p>;
  if (!session)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice(null);
          setSession(s);
        }}
      />
    );
  return <Shell session={session} onSignOut={() => setSession(null)} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
