/**
 * Staff sign-in (docs/till.md, "Staff"): where the till holds its
 * location's roster, nobody sells until a member signs in with their PIN.
 * The PIN is checked in the journal worker against the roster's scrypt
 * verifier (terminal-web browser-staff.ts), offline; five wrong PINs lock
 * the member out on this till, and a reload does not undo it.
 *
 * Keyboard first: type the staff id (or pick a name), Tab, the PIN, Enter.
 * Touch: tap a name, then the PIN pad.
 */
import type { BrowserTill, StaffMemberView, TillStatus } from '@holdfast/terminal-web/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { appWords, errorWords, LOCALE } from './words.js';

const ROLE_WORDS: Record<StaffMemberView['role'], string> = {
  clerk: 'Clerk',
  supervisor: 'Supervisor',
  manager: 'Manager',
};

function clockTime(at: number): string {
  return new Intl.DateTimeFormat(LOCALE.format, { hour: '2-digit', minute: '2-digit' }).format(new Date(at));
}

/** Who is signed in, in the header, with Sign out; or that nobody is; or that there is no staff list. */
export function StaffArea({ status, till }: { status: TillStatus; till: BrowserTill }) {
  if (!status.enrolled) return null;
  if (status.staff) {
    return (
      <span class="staff" data-signed-in={status.staff.id}>
        <span>
          {status.staff.name} <small>· {ROLE_WORDS[status.staff.role]}</small>
        </span>
        <button type="button" class="secondary" data-sign-out onClick={() => void till.signOut()}>
          Sign out<kbd>F9</kbd>
        </button>
      </span>
    );
  }
  if (status.feed.rosterVersion > 0) return <span data-signed-in="">{appWords('nobody_signed_in')}</span>;
  return (
    <span class="muted" data-no-roster>
      {appWords('no_staff_list')}
    </span>
  );
}

interface Problem {
  words: string;
  code: string;
}

export function SignIn({ till, status }: { till: BrowserTill; status: TillStatus }) {
  const [members, setMembers] = useState<StaffMemberView[]>([]);
  const [staff, setStaff] = useState('');
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const pinInput = useRef<HTMLInputElement>(null);
  const staffInput = useRef<HTMLInputElement>(null);
  const rosterVersion = status.feed.rosterVersion;
  // The list follows the roster (and each refusal, which may lock a member out).
  useEffect(() => {
    void till.staffMembers().then(setMembers, () => setMembers([]));
  }, [till, rosterVersion, problem]);
  useEffect(() => staffInput.current?.focus(), []);

  const pick = (id: string) => {
    setStaff(id);
    setProblem(null);
    pinInput.current?.focus();
  };
  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(null);
    try {
      await till.signIn(staff.trim(), pin);
    } catch (error) {
      const code = String((error as { code?: unknown }).code ?? '');
      const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
      let words = errorWords(error);
      if (code === 'locked_out' && typeof retryAfterMs === 'number') {
        words = `${words} ${appWords('unlocks_at', { time: clockTime(Date.now() + retryAfterMs) })}`;
      }
      setProblem({ words, code });
      setPin('');
      pinInput.current?.focus();
    } finally {
      setBusy(false);
    }
  };
  const press = (key: string) => {
    if (key === '⌫') setPin((p) => p.slice(0, -1));
    else if (key === 'OK') void submit();
    else setPin((p) => (p.length < 12 ? p + key : p));
    pinInput.current?.focus();
  };
  const chosen = members.find((m) => m.id === staff.trim());

  return (
    <main class="signin">
      <h1>Sign in</h1>
      {status.staffRemoved ? (
        <div class="banner warn" role="status" data-staff-removed={status.staffRemoved.id}>
          {appWords('staff_removed', { name: status.staffRemoved.name })}
        </div>
      ) : null}
      <div class="signin-grid">
        <section>
          <h2>Staff</h2>
          <div class="staff-list">
            {members.map((m) => (
              <button
                type="button"
                key={m.id}
                class={`secondary member${m.id === staff.trim() ? ' on' : ''}`}
                data-member={m.id}
                onClick={() => pick(m.id)}
              >
                <strong>{m.name}</strong>
                <small>
                  {m.id} · {ROLE_WORDS[m.role]}
                  {m.lockedUntil !== null ? ` · ${appWords('unlocks_at', { time: clockTime(m.lockedUntil) })}` : ''}
                  {!m.hasPin ? ` · ${errorWords({ code: 'staff_no_pin' })}` : ''}
                </small>
              </button>
            ))}
          </div>
        </section>
        <form data-form="sign-in" onSubmit={(e) => void submit(e)}>
          <label>
            Staff id
            <input
              ref={staffInput}
              name="staff"
              autoComplete="off"
              autoCapitalize="none"
              maxLength={64}
              value={staff}
              onInput={(e) => setStaff((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            PIN{chosen ? ` for ${chosen.name}` : ''}
            <input
              ref={pinInput}
              name="pin"
              type="password"
              inputMode="numeric"
              autoComplete="off"
              maxLength={12}
              value={pin}
              onInput={(e) => setPin((e.target as HTMLInputElement).value)}
            />
          </label>
          <div class="pin-pad">
            {['1', '2', '3', '4', '5', '6', '7', '8', '9', '⌫', '0', 'OK'].map((k) => (
              <button
                type="button"
                key={k}
                class={k === 'OK' ? '' : 'secondary'}
                data-pin-key={k}
                disabled={busy || (k === 'OK' && (staff.trim() === '' || pin === ''))}
                onClick={() => press(k)}
              >
                {k}
              </button>
            ))}
          </div>
          <button type="submit" class="big" disabled={busy || staff.trim() === '' || pin === ''}>
            {busy ? 'Checking…' : 'Sign in'}
          </button>
          {problem ? (
            <div class="problem" role="alert" data-sign-in-error={problem.code}>
              {problem.words}
            </div>
          ) : null}
        </form>
      </div>
    </main>
  );
}
