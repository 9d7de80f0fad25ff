/** Enrollment: the clerk pastes the one-time token the operator made (console → Enrollment). */
import type { BrowserTill } from '@holdfast/terminal-web/client';
import { useState } from 'preact/hooks';
import { errorWords } from './words.js';

export function Enroll({ till }: { till: BrowserTill }) {
  const [token, setToken] = useState('');
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await till.enroll(token.trim(), label.trim() || undefined);
    } catch (error) {
      setProblem(errorWords(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="narrow">
      <h1>Set up this till</h1>
      <p>Paste the one-time token the operator gave you (Holdfast console, Enrollment).</p>
      <form data-form="enroll" onSubmit={(e) => void submit(e)}>
        <label>
          Token
          <textarea
            name="token"
            rows={3}
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)}
          />
        </label>
        <label>
          Name of this till (optional)
          <input
            name="label"
            maxLength={64}
            value={label}
            onInput={(e) => setLabel((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="big" disabled={busy || token.trim() === ''}>
          {busy ? 'Enrolling…' : 'Enroll'}
        </button>
      </form>
      {problem ? (
        <div class="problem" role="alert" data-enroll-error>
          {problem}
        </div>
      ) : null}
    </main>
  );
}
