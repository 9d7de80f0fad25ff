/**
 * The till's header: which till, the link to the server in words (a clear
 * offline banner), how many sales wait for the server's confirmation and
 * for how long, and the banners that need the clerk: revoked, storage that
 * the browser may clear.
 */

import { clerkMessage } from '@holdfast/terminal/portable';
import type { BrowserTill, TillStatus } from '@holdfast/terminal-web/client';
import { useState } from 'preact/hooks';
import { age } from '../shared/time.js';
import { StaffArea } from './signin.js';
import { appWords, errorWords, LOCALE } from './words.js';

const LINK_WORDS: Record<TillStatus['connectivity'], string> = {
  online: 'Online',
  degraded: 'Connection unstable',
  offline: 'Offline',
  unknown: 'Connecting…',
};

export function StatusBar({
  status,
  persisted,
  now,
  till,
}: {
  status: TillStatus;
  persisted: boolean;
  now: number;
  till: BrowserTill;
}) {
  const [syncing, setSyncing] = useState(false);
  const [syncError, setSyncError] = useState<string | null>(null);
  const unreadable =
    status.lastError !== null && /unreadable|inconsistent|unverifiable|bad_response/.test(status.lastError);
  const offline = status.connectivity === 'offline';
  const syncNow = async () => {
    setSyncing(true);
    setSyncError(null);
    try {
      await till.syncNow();
    } catch (error) {
      setSyncError(errorWords(error));
    } finally {
      setSyncing(false);
    }
  };
  return (
    <>
      <header class="bar">
        <strong data-till-name>{status.label ?? status.till}</strong>
        <span class={`badge link-${status.connectivity}`} data-link={status.connectivity}>
          {LINK_WORDS[status.connectivity]}
        </span>
        <span data-pending={status.pending}>
          {status.pending === 0 ? 'Nothing waiting' : `${status.pending} waiting for the server`}
        </span>
        {status.oldestPendingAt !== null ? (
          <span data-oldest-pending>oldest {age(now - status.oldestPendingAt)}</span>
        ) : null}
        {status.deadLetters > 0 ? <span class="badge attention">{status.deadLetters} need attention</span> : null}
        <span class="spacer" />
        <StaffArea status={status} till={till} />
        {status.enrolled ? (
          <button type="button" class="secondary" disabled={syncing} onClick={() => void syncNow()} data-sync-now>
            {syncing ? 'Sending…' : 'Send now'}
          </button>
        ) : null}
      </header>
      {status.revoked ? (
        <div class="banner revoked" role="alert" data-banner="revoked">
          {clerkMessage({ code: 'device_revoked' }, LOCALE)}
        </div>
      ) : null}
      {offline && !status.revoked ? (
        <div class="banner offline" role="status" data-banner="offline">
          {unreadable ? appWords('bad_answers') : appWords('offline')}
          {status.lastError ? <small> ({status.lastError})</small> : null}
        </div>
      ) : null}
      {!offline && unreadable && !status.revoked ? (
        <div class="banner offline" role="status" data-banner="bad-answers">
          {appWords('bad_answers')} <small>({status.lastError})</small>
        </div>
      ) : null}
      {!persisted ? (
        <div class="banner warn" data-banner="not-persistent">
          {appWords('persistence_refused')}
        </div>
      ) : null}
      {syncError ? (
        <div class="banner warn" role="alert">
          {syncError}
        </div>
      ) : null}
    </>
  );
}
