/**
 * The print view: the receipt (a sale's, or a shift's Z report) rendered by
 * the domain's HTML renderer (domain/src/receipts), which escapes every
 * text; printed with the browser's print dialog, only the receipt on the
 * page (till.css @media print). A reprint is marked COPY by the renderer.
 * Its inline <style> is dropped (the till's CSP allows none): the same
 * rules are in till.css.
 */
import { type Receipt, receiptHtml } from '@holdfast/domain';
import type { BrowserTill } from '@holdfast/terminal-web/client';
import { useEffect, useState } from 'preact/hooks';
import type { ReceiptRequest } from './main.js';
import { errorWords, LOCALE } from './words.js';

export function ReceiptView({
  till,
  request,
  onClose,
  onReprint,
}: {
  till: BrowserTill;
  request: ReceiptRequest;
  onClose: () => void;
  onReprint: (r: ReceiptRequest) => void;
}) {
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setReceipt(null);
    till.receipt(request.id, request.copy).then(setReceipt, (error: unknown) => setProblem(errorWords(error)));
  }, [till, request.id, request.copy]);
  if (problem) {
    return (
      <div class="problem" role="alert">
        {problem}
      </div>
    );
  }
  if (!receipt) return <p>Loading the receipt…</p>;
  const html = receiptHtml(receipt, { locale: LOCALE }).replace(/<style>[^<]*<\/style>/, '');
  return (
    <div class="print-view">
      <div class="actions">
        <button type="button" class="big" onClick={() => window.print()} data-print-now>
          Print
        </button>
        {!request.copy ? (
          <button
            type="button"
            class="secondary"
            onClick={() => onReprint({ id: request.id, copy: true })}
            data-reprint
          >
            Reprint (copy)
          </button>
        ) : null}
        <button type="button" class="secondary" onClick={onClose}>
          Back <kbd>Esc</kbd>
        </button>
      </div>
      {/* receiptHtml escapes every text it prints (domain/src/receipts/render.ts). */}
      <div class="paper" data-receipt-view dangerouslySetInnerHTML={{ __html: html }} />
    </div>
  );
}
