/**
 * Card payments the processor declined after the sale (post-authorization
 * declines, from the signed device feed): the amount and the card's last four
 * digits in words, on the Needs attention screen. The customer has the goods
 * and the shop has not been paid; the operator follows it up in the console.
 */
import type { BrowserTill, TillDeclineView, TillStatus } from '@holdfast/terminal-web/client';
import { useEffect, useState } from 'preact/hooks';
import { when } from '../shared/time.js';
import { declineAdvice, declinedBadge, declinesTitle, declineWords } from './policy-words.js';

export function Declines({ till, status }: { till: BrowserTill; status: TillStatus }) {
  const [declines, setDeclines] = useState<TillDeclineView[]>([]);
  useEffect(() => {
    let live = true;
    void till.declines(100).then((d) => live && setDeclines(d));
    return () => {
      live = false;
    };
  }, [till, status.declines]);
  if (declines.length === 0) return null;
  return (
    <section class="declines" data-declines={declines.length}>
      <h2>{declinesTitle()}</h2>
      <p>{declineAdvice()}</p>
      <ul>
        {declines.map((d) => (
          <li key={`${d.opId}/${d.tenderIndex}`} data-decline={d.opId} data-last4={d.last4}>
            <span class="badge needs_attention" title={d.declineCode}>
              {declinedBadge()}
            </span>{' '}
            {declineWords(d)} <small>{when(d.declinedAt)}</small>
          </li>
        ))}
      </ul>
    </section>
  );
}
