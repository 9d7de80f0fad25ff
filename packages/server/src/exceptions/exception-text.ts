/**
 * What an exception says to an operator, in their language.
 *
 * An exception is stored with an English `message` written when it was
 * raised (the log's words) and a structured `detail`. This module renders a
 * title for every type, and for the types whose detail carries the figures
 * (drawer variances, card payments) a whole sentence in English, Spanish or
 * Portuguese with money through the one formatter. Where a type has no
 * sentence of its own the recorded message is the text, so nothing an
 * operator needs is ever hidden by a translation.
 */
import { formatInstant, type MessageLanguage, type Phrasebook, type SpokenLocale } from '@holdfast/domain';
import { formatMoney } from '@holdfast/protocol';
import type { ExceptionRecord, ExceptionType } from '../model/exception.js';

export interface ExceptionText {
  /** The locale the words are in (`en`, `es` or `pt`). */
  language: MessageLanguage;
  /** The type, in words. */
  title: string;
  /** What happened, in words, with money in the caller's locale. */
  text: string;
}

const TITLES: Phrasebook<Record<ExceptionType, string>> = {
  en: {
    conflict: 'Conflicting operation',
    fork: 'Forked chain',
    op_rejected: 'Rejected operation',
    shift_rule: 'Shift rule broken',
    cash_variance: 'Cash variance',
    post_auth_decline: 'Declined after offline approval',
    policy_breach: 'Risk policy breach',
    online_unverified: 'Unverified online approval',
    wristband_overspend: 'Wristband overspend',
    wristband_clone: 'Cloned wristband',
    forwarding_deadline: 'Card forwarding deadline',
    payment_refused: 'Card payment refused',
    staff_unknown: 'Unknown staff member',
    staff_removed: 'Staff member already removed',
    staff_not_at_location: 'Staff member of another location',
    staff_missing: 'Nobody signed in',
    approval_missing: 'Approval missing',
    approval_role_missing: 'Approver without the role',
    payout_invalid: 'Invalid ticket payout',
    ticket_paid_twice: 'Ticket paid twice',
    void_invalid: 'Ticket void outside the rules',
    loyalty_overdrawn: 'Loyalty points overdrawn',
    loyalty_unknown_member: 'Points for an unknown member',
    catalog_unknown: 'Unknown item or price list',
    stale_price: 'Sold at a superseded price',
    fiscal_rejected: 'Bill rejected by the tax authority',
    fiscal_answer_conflict: 'Conflicting fiscal answers',
    fiscal_out_of_order: 'Fiscal number out of order',
    fiscal_deadline: 'Bill registration deadline',
    refund_unmatched: 'Refund of a sale not received yet',
    refund_over_sale: 'Refunds above the sale',
    refund_invalid: 'Refund outside the rules',
    sale_void_invalid: 'Sale void outside the rules',
    outage: 'Outage healed: lanes synced their backlog',
    fiscal_refused: 'Refused for good by the tax authority',
    card_refund_declined: 'Card refund not made by the processor',
    stock_shortfall: 'Sold more than was in stock',
    stock_unapplied: 'Stock movement not applied',
    loyalty_rule_breach: 'Points outside the loyalty rule',
    loyalty_online_unverified: 'Online redemption not confirmed',
    topup_reversal_invalid: 'Top-up reversal outside the rules',
    topup_reversal_over: 'Top-up reversed for more than it loaded',
    cash_correction_invalid: 'Cash correction outside the rules',
    cash_correction_over: 'Cash movement corrected for more than it moved',
  },
  es: {
    conflict: 'Operación en conflicto',
    fork: 'Cadena bifurcada',
    op_rejected: 'Operación rechazada',
    shift_rule: 'Regla de turno incumplida',
    cash_variance: 'Diferencia de caja',
    post_auth_decline: 'Rechazo tras aprobación sin conexión',
    policy_breach: 'Incumplimiento de la política de riesgo',
    online_unverified: 'Aprobación en línea no verificada',
    wristband_overspend: 'Gasto por encima del saldo de la pulsera',
    wristband_clone: 'Pulsera clonada',
    forwarding_deadline: 'Plazo de envío de pagos con tarjeta',
    payment_refused: 'Pago con tarjeta rechazado',
    staff_unknown: 'Empleado desconocido',
    staff_removed: 'Empleado ya dado de baja',
    staff_not_at_location: 'Empleado de otra sucursal',
    staff_missing: 'Nadie había iniciado sesión',
    approval_missing: 'Falta la autorización',
    approval_role_missing: 'Autorizó alguien sin el rol',
    payout_invalid: 'Pago de boleto no válido',
    ticket_paid_twice: 'Boleto pagado dos veces',
    void_invalid: 'Anulación de boleto fuera de las reglas',
    loyalty_overdrawn: 'Puntos de fidelidad en descubierto',
    loyalty_unknown_member: 'Puntos para un socio desconocido',
    catalog_unknown: 'Artículo o lista de precios desconocidos',
    stale_price: 'Vendido a un precio reemplazado',
    fiscal_rejected: 'Factura rechazada por la autoridad fiscal',
    fiscal_answer_conflict: 'Respuestas fiscales en conflicto',
    fiscal_out_of_order: 'Número fiscal fuera de orden',
    fiscal_deadline: 'Plazo de registro de la factura',
    refund_unmatched: 'Devolución de una venta aún no recibida',
    refund_over_sale: 'Devoluciones por encima de la venta',
    refund_invalid: 'Devolución fuera de las reglas',
    sale_void_invalid: 'Anulación de venta fuera de las reglas',
    outage: 'Corte resuelto: las cajas enviaron lo pendiente',
    fiscal_refused: 'Rechazo definitivo de la autoridad fiscal',
    card_refund_declined: 'Reembolso a tarjeta no hecho por el procesador',
    stock_shortfall: 'Vendido más de lo que había en existencias',
    stock_unapplied: 'Movimiento de existencias no aplicado',
    loyalty_rule_breach: 'Puntos fuera de la regla de fidelidad',
    loyalty_online_unverified: 'Canje en línea no confirmado',
    topup_reversal_invalid: 'Reversión de recarga fuera de las reglas',
    topup_reversal_over: 'Recarga revertida por más de lo que cargó',
    cash_correction_invalid: 'Corrección de efectivo fuera de las reglas',
    cash_correction_over: 'Movimiento de efectivo corregido por más de lo que movió',
  },
  pt: {
    conflict: 'Operação em conflito',
    fork: 'Cadeia bifurcada',
    op_rejected: 'Operação rejeitada',
    shift_rule: 'Regra de turno violada',
    cash_variance: 'Diferença de caixa',
    post_auth_decline: 'Recusa após aprovação offline',
    policy_breach: 'Violação da política de risco',
    online_unverified: 'Aprovação online não verificada',
    wristband_overspend: 'Gasto acima do saldo da pulseira',
    wristband_clone: 'Pulseira clonada',
    forwarding_deadline: 'Prazo de envio de pagamentos com cartão',
    payment_refused: 'Pagamento com cartão recusado',
    staff_unknown: 'Funcionário desconhecido',
    staff_removed: 'Funcionário já desligado',
    staff_not_at_location: 'Funcionário de outra loja',
    staff_missing: 'Ninguém tinha entrado',
    approval_missing: 'Falta a autorização',
    approval_role_missing: 'Autorizado por alguém sem a função',
    payout_invalid: 'Pagamento de bilhete inválido',
    ticket_paid_twice: 'Bilhete pago duas vezes',
    void_invalid: 'Anulação de bilhete fora das regras',
    loyalty_overdrawn: 'Pontos de fidelidade a descoberto',
    loyalty_unknown_member: 'Pontos para um membro desconhecido',
    catalog_unknown: 'Artigo ou lista de preços desconhecidos',
    stale_price: 'Vendido a um preço substituído',
    fiscal_rejected: 'Nota rejeitada pela autoridade fiscal',
    fiscal_answer_conflict: 'Respostas fiscais em conflito',
    fiscal_out_of_order: 'Número fiscal fora de ordem',
    fiscal_deadline: 'Prazo de registo da nota',
    refund_unmatched: 'Reembolso de uma venda ainda não recebida',
    refund_over_sale: 'Reembolsos acima da venda',
    refund_invalid: 'Reembolso fora das regras',
    sale_void_invalid: 'Cancelamento de venda fora das regras',
    outage: 'Queda resolvida: os caixas enviaram o pendente',
    fiscal_refused: 'Recusa definitiva da autoridade fiscal',
    card_refund_declined: 'Reembolso no cartão não feito pelo processador',
    stock_shortfall: 'Vendido mais do que havia em estoque',
    stock_unapplied: 'Movimento de estoque não aplicado',
    loyalty_rule_breach: 'Pontos fora da regra de fidelidade',
    loyalty_online_unverified: 'Resgate online não confirmado',
    topup_reversal_invalid: 'Estorno de recarga fora das regras',
    topup_reversal_over: 'Recarga estornada acima do que carregou',
    cash_correction_invalid: 'Correção de caixa fora das regras',
    cash_correction_over: 'Movimento de caixa corrigido acima do que movimentou',
  },
};

type Detail = Record<string, unknown>;
const int = (d: Detail, key: string): number | null => (Number.isSafeInteger(d[key]) ? (d[key] as number) : null);
const str = (d: Detail, key: string): string | null => (typeof d[key] === 'string' ? (d[key] as string) : null);

/** The card a payment detail names, `visa ****4242`, or null. */
function cardOf(d: Detail): string | null {
  const brand = str(d, 'brand');
  const last4 = str(d, 'last4');
  return brand && last4 ? `${brand} ****${last4}` : null;
}

type Sentence = (d: Detail, money: (amount: number) => string, locale: SpokenLocale) => string | null;

const SENTENCES: Partial<Record<ExceptionType, Phrasebook<Sentence>>> = {
  cash_variance: {
    en: (d, money) => {
      const [variance, expected, counted] = [int(d, 'variance'), int(d, 'expected'), int(d, 'counted')];
      if (variance === null || expected === null || counted === null) return null;
      return `Drawer ${variance < 0 ? 'short' : 'over'} by ${money(Math.abs(variance))} at close: expected ${money(expected)}, counted ${money(counted)}`;
    },
    es: (d, money) => {
      const [variance, expected, counted] = [int(d, 'variance'), int(d, 'expected'), int(d, 'counted')];
      if (variance === null || expected === null || counted === null) return null;
      return `${variance < 0 ? 'Faltante' : 'Sobrante'} de ${money(Math.abs(variance))} en caja al cierre: se esperaban ${money(expected)}, se contaron ${money(counted)}`;
    },
    pt: (d, money) => {
      const [variance, expected, counted] = [int(d, 'variance'), int(d, 'expected'), int(d, 'counted')];
      if (variance === null || expected === null || counted === null) return null;
      return `${variance < 0 ? 'Falta' : 'Sobra'} de ${money(Math.abs(variance))} no caixa no fechamento: esperado ${money(expected)}, contado ${money(counted)}`;
    },
  },
  post_auth_decline: {
    en: (d, money) => {
      const [card, amount, code] = [cardOf(d), int(d, 'amount'), str(d, 'declineCode')];
      if (!card || amount === null || !code) return null;
      return `The offline-approved ${card} payment of ${money(amount)} was declined by the processor (${code}); the customer has the goods`;
    },
    es: (d, money) => {
      const [card, amount, code] = [cardOf(d), int(d, 'amount'), str(d, 'declineCode')];
      if (!card || amount === null || !code) return null;
      return `El procesador rechazó el pago ${card} de ${money(amount)} aprobado sin conexión (${code}); el cliente ya se llevó la mercancía`;
    },
    pt: (d, money) => {
      const [card, amount, code] = [cardOf(d), int(d, 'amount'), str(d, 'declineCode')];
      if (!card || amount === null || !code) return null;
      return `O processador recusou o pagamento ${card} de ${money(amount)} aprovado offline (${code}); o cliente já levou a mercadoria`;
    },
  },
  payment_refused: {
    en: (d, money) => {
      const [card, amount, code, status] = [cardOf(d), int(d, 'amount'), str(d, 'code'), int(d, 'status')];
      if (!card || amount === null || !code || status === null) return null;
      return `The processor refused the offline-approved ${card} payment of ${money(amount)} (HTTP ${status} ${code}); it will not be sent again`;
    },
    es: (d, money) => {
      const [card, amount, code, status] = [cardOf(d), int(d, 'amount'), str(d, 'code'), int(d, 'status')];
      if (!card || amount === null || !code || status === null) return null;
      return `El procesador no aceptó el pago ${card} de ${money(amount)} aprobado sin conexión (HTTP ${status} ${code}); no se volverá a enviar`;
    },
    pt: (d, money) => {
      const [card, amount, code, status] = [cardOf(d), int(d, 'amount'), str(d, 'code'), int(d, 'status')];
      if (!card || amount === null || !code || status === null) return null;
      return `O processador não aceitou o pagamento ${card} de ${money(amount)} aprovado offline (HTTP ${status} ${code}); não será reenviado`;
    },
  },
  forwarding_deadline: {
    en: (d, money, locale) => {
      const [card, amount, deadline] = [cardOf(d), int(d, 'amount'), int(d, 'deadlineAt')];
      if (!card || amount === null || deadline === null) return null;
      const when = formatInstant(deadline, locale);
      return d.stage === 'missed'
        ? `The offline-approved ${card} payment of ${money(amount)} missed its forwarding deadline (${when}) unsettled`
        : `The offline-approved ${card} payment of ${money(amount)} is still unsettled; its forwarding deadline is ${when}`;
    },
    es: (d, money, locale) => {
      const [card, amount, deadline] = [cardOf(d), int(d, 'amount'), int(d, 'deadlineAt')];
      if (!card || amount === null || deadline === null) return null;
      const when = formatInstant(deadline, locale);
      return d.stage === 'missed'
        ? `El pago ${card} de ${money(amount)} aprobado sin conexión venció su plazo de envío (${when}) sin liquidarse`
        : `El pago ${card} de ${money(amount)} aprobado sin conexión sigue sin liquidarse; su plazo de envío vence el ${when}`;
    },
    pt: (d, money, locale) => {
      const [card, amount, deadline] = [cardOf(d), int(d, 'amount'), int(d, 'deadlineAt')];
      if (!card || amount === null || deadline === null) return null;
      const when = formatInstant(deadline, locale);
      return d.stage === 'missed'
        ? `O pagamento ${card} de ${money(amount)} aprovado offline perdeu o prazo de envio (${when}) sem ser liquidado`
        : `O pagamento ${card} de ${money(amount)} aprovado offline ainda não foi liquidado; o prazo de envio termina em ${when}`;
    },
  },
};

/**
 * The exception in the caller's words. Types raised by later versions, or
 * details without the figures a sentence needs, fall back to the recorded
 * message and the type's name: never an empty or invented text.
 */
export function describeException(
  e: Pick<ExceptionRecord, 'type' | 'message' | 'detail'>,
  locale: SpokenLocale,
): ExceptionText {
  const { language } = locale;
  const title = (TITLES[language] as Partial<Record<string, string>>)[e.type] ?? e.type;
  const currency = str(e.detail, 'currency');
  const sentence = SENTENCES[e.type]?.[language];
  const text =
    (currency && sentence
      ? sentence(e.detail, (amount) => formatMoney(amount, currency, locale.format), locale)
      : null) ?? e.message;
  return { language, title, text };
}
