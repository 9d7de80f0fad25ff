/**
 * The rules of a wristband top-up reversal (docs/wristbands.md, "Top-up
 * reversal"), shared by the till, which refuses what breaks them, and the
 * server, which raises an exception for a fact recorded offline that broke
 * them (the fact stands).
 *
 * Policy: a top-up is reversed the way it was paid (cash out of the drawer,
 * or a card top-up back to its card at the processor), in the shift it was
 * recorded in (so by the device that took the money, while its drawer is open), on the
 * wristband it loaded, in its currency, for at most what it loaded less
 * what its earlier reversals took back, and never for more than the wallet
 * still holds: money already spent at a bar is not given back.
 */
import { formatMoney } from '@holdfast/protocol';

/** A top-up as a reversal is judged against it. */
export interface TopUpRef {
  id: string;
  shift: string;
  wristband: string;
  currency: string;
  amount: number;
  paid: 'cash' | 'card';
}

/** A reversal as judged: what it names and how much it gives back. */
export interface TopUpReversalRef {
  topup: string;
  /** Where the money goes back (absent: cash); it must be how the top-up was paid. */
  tender?: 'cash' | 'card';
  shift: string;
  wristband: string;
  currency: string;
  amount: number;
}

export interface TopUpReversalProblem {
  code: 'topup_reversal_invalid' | 'topup_reversal_over';
  message: string;
}

/**
 * What `next` breaks, given its top-up (undefined: unknown), the amount its
 * earlier reversals took back, and the wallet's balance before it (null:
 * not known). Empty when it is within the rules.
 */
export function topUpReversalProblems(
  topUp: TopUpRef | undefined,
  reversedBefore: number,
  next: TopUpReversalRef,
  walletBalance: number | null,
): TopUpReversalProblem[] {
  const problems: TopUpReversalProblem[] = [];
  const money = (n: number) => formatMoney(n, next.currency);
  if (topUp === undefined) {
    return [{ code: 'topup_reversal_invalid', message: `top-up ${next.topup} is unknown` }];
  }
  const tender = next.tender ?? 'cash';
  if (topUp.paid !== tender) {
    problems.push({
      code: 'topup_reversal_invalid',
      message: `the top-up was paid by ${topUp.paid}: it is given back to the ${topUp.paid === 'card' ? 'card' : 'customer in cash'}, not by ${tender}`,
    });
  }
  if (topUp.shift !== next.shift) {
    problems.push({
      code: 'topup_reversal_invalid',
      message: `a top-up is reversed in its own shift (${topUp.shift}) only`,
    });
  }
  if (topUp.wristband !== next.wristband) {
    problems.push({
      code: 'topup_reversal_invalid',
      message: `the top-up loaded wristband ${topUp.wristband}, not ${next.wristband}`,
    });
  }
  if (topUp.currency !== next.currency) {
    problems.push({
      code: 'topup_reversal_invalid',
      message: `the top-up was in ${topUp.currency}, not ${next.currency}`,
    });
    return problems;
  }
  const left = Math.max(0, topUp.amount - reversedBefore);
  if (next.amount > left) {
    problems.push({
      code: 'topup_reversal_over',
      message:
        reversedBefore > 0
          ? `${money(next.amount)} is above what is left of the top-up (${money(topUp.amount)}, ${money(reversedBefore)} reversed before)`
          : `${money(next.amount)} is above the top-up (${money(topUp.amount)})`,
    });
  }
  if (walletBalance !== null && next.amount > walletBalance) {
    problems.push({
      code: 'topup_reversal_invalid',
      message: `the wallet held ${money(Math.max(0, walletBalance))}: the rest of the top-up was already spent`,
    });
  }
  return problems;
}
