/**
 * The words printed on receipts, in each language Holdfast speaks.
 */
import type { Phrasebook } from '../locale.js';
import type { ReceiptStatus, SlipKind } from './receipt.js';

export interface ReceiptWords {
  receipt: string;
  zReport: string;
  copy: string;
  /** Before the tax authority's number on an e-invoice. */
  fiscalNumber: string;
  /** An e-invoice not registered yet. */
  provisional: string;
  total: string;
  discount: string;
  cash: string;
  tendered: string;
  change: string;
  card: string;
  wristband: string;
  balanceAfter: string;
  shift: string;
  clerk: string;
  opened: string;
  closed: string;
  device: string;
  op: string;
  openingFloat: string;
  cashIn: string;
  cashOut: string;
  expectedCash: string;
  countedCash: string;
  variance: string;
  byKind: string;
  byTender: string;
  status: Record<ReceiptStatus, string>;
  /** Titles of the money-out slips. */
  slips: Record<SlipKind, string>;
  ticket: string;
  sale: string;
  /** The cash movement a cash correction names. */
  cashMovement: string;
  /** The top-up a reversal slip names. */
  topUp: string;
  /** A refunded line: "Line 2 x 1". */
  line: string;
  authorization: string;
  /** A payout recorded with no server authorization, under the offline payout limit. */
  paidOffline: string;
  staff: string;
  approvedBy: string;
  reason: string;
  /** Names of op kinds (and `cash.moved.in`/`.out`) in the Z report; others print as their kind. */
  kinds: Record<string, string>;
}

export const RECEIPT_WORDS: Phrasebook<ReceiptWords> = {
  en: {
    receipt: 'RECEIPT',
    zReport: 'Z REPORT - SHIFT CLOSE',
    copy: 'COPY',
    fiscalNumber: 'Fiscal no.',
    provisional: 'PROVISIONAL - fiscal number pending',
    total: 'TOTAL',
    discount: 'discount',
    cash: 'Cash',
    tendered: 'Tendered',
    change: 'Change',
    card: 'Card',
    wristband: 'Wristband',
    balanceAfter: 'Balance left',
    shift: 'Shift',
    clerk: 'Clerk',
    opened: 'Opened',
    closed: 'Closed',
    device: 'Device',
    op: 'Op',
    openingFloat: 'Opening float',
    cashIn: 'Cash in',
    cashOut: 'Cash out',
    expectedCash: 'Expected cash',
    countedCash: 'Counted cash',
    variance: 'Variance',
    byKind: 'By kind',
    byTender: 'Sales by tender',
    slips: {
      payout: 'PAYOUT',
      ticket_void: 'TICKET VOID',
      sale_void: 'SALE VOID',
      refund: 'REFUND',
      cash_correction: 'CASH CORRECTION',
      topup_reversal: 'TOP-UP REVERSAL',
    },
    ticket: 'Ticket',
    sale: 'Sale',
    cashMovement: 'Cash movement',
    topUp: 'Top-up',
    line: 'Line',
    authorization: 'Authorization',
    paidOffline: "Paid offline at the shop's risk",
    staff: 'Staff',
    approvedBy: 'Approved by',
    reason: 'Reason',
    status: { pending: 'Pending confirmation', confirmed: 'Confirmed', needs_attention: 'Needs attention' },
    kinds: {
      'sale.recorded': 'Sales',
      'cash.moved.in': 'Cash in',
      'cash.moved.out': 'Cash out',
      'cash.corrected.in': 'Cash corrections in',
      'cash.corrected.out': 'Cash corrections out',
      'wallet.topped_up': 'Wristband top-ups',
      'wallet.refunded': 'Wristband refunds',
      'ticket.issued': 'Tickets',
      'ticket.paid': 'Payouts',
      'ticket.voided': 'Ticket voids',
      'sale.voided': 'Sale voids',
      'sale.refunded': 'Refunds',
      'wallet.topup_reversed': 'Top-up reversals',
    },
  },
  es: {
    receipt: 'RECIBO',
    zReport: 'INFORME Z - CIERRE DE TURNO',
    copy: 'COPIA',
    fiscalNumber: 'N.º fiscal',
    provisional: 'PROVISIONAL - número fiscal pendiente',
    total: 'TOTAL',
    discount: 'descuento',
    cash: 'Efectivo',
    tendered: 'Recibido',
    change: 'Cambio',
    card: 'Tarjeta',
    wristband: 'Pulsera',
    balanceAfter: 'Saldo restante',
    shift: 'Turno',
    clerk: 'Cajero',
    opened: 'Apertura',
    closed: 'Cierre',
    device: 'Terminal',
    op: 'Op',
    openingFloat: 'Fondo inicial',
    cashIn: 'Entradas de efectivo',
    cashOut: 'Salidas de efectivo',
    expectedCash: 'Efectivo esperado',
    countedCash: 'Efectivo contado',
    variance: 'Diferencia',
    byKind: 'Por tipo',
    byTender: 'Ventas por medio de pago',
    slips: {
      payout: 'PAGO DE PREMIO',
      ticket_void: 'ANULACIÓN DE BOLETO',
      sale_void: 'ANULACIÓN DE VENTA',
      refund: 'DEVOLUCIÓN',
      cash_correction: 'CORRECCIÓN DE EFECTIVO',
      topup_reversal: 'ANULACIÓN DE RECARGA',
    },
    ticket: 'Boleto',
    sale: 'Venta',
    cashMovement: 'Movimiento de efectivo',
    topUp: 'Recarga',
    line: 'Línea',
    authorization: 'Autorización',
    paidOffline: 'Pagado sin conexión, a riesgo de la tienda',
    staff: 'Personal',
    approvedBy: 'Aprobado por',
    reason: 'Motivo',
    status: { pending: 'Pendiente de confirmación', confirmed: 'Confirmado', needs_attention: 'Requiere atención' },
    kinds: {
      'sale.recorded': 'Ventas',
      'cash.moved.in': 'Entradas de efectivo',
      'cash.moved.out': 'Salidas de efectivo',
      'cash.corrected.in': 'Correcciones de efectivo (entrada)',
      'cash.corrected.out': 'Correcciones de efectivo (salida)',
      'wallet.topped_up': 'Recargas de pulsera',
      'wallet.refunded': 'Reembolsos de pulsera',
      'ticket.issued': 'Boletos',
      'ticket.paid': 'Pagos de premios',
      'ticket.voided': 'Anulaciones de boletos',
      'sale.voided': 'Anulaciones de ventas',
      'sale.refunded': 'Devoluciones',
      'wallet.topup_reversed': 'Anulaciones de recarga',
    },
  },
  pt: {
    receipt: 'RECIBO',
    zReport: 'RELATÓRIO Z - FECHAMENTO DE TURNO',
    copy: 'CÓPIA',
    fiscalNumber: 'N.º fiscal',
    provisional: 'PROVISÓRIO - número fiscal pendente',
    total: 'TOTAL',
    discount: 'desconto',
    cash: 'Dinheiro',
    tendered: 'Recebido',
    change: 'Troco',
    card: 'Cartão',
    wristband: 'Pulseira',
    balanceAfter: 'Saldo restante',
    shift: 'Turno',
    clerk: 'Operador',
    opened: 'Abertura',
    closed: 'Fechamento',
    device: 'Terminal',
    op: 'Op',
    openingFloat: 'Fundo de troco',
    cashIn: 'Entradas de dinheiro',
    cashOut: 'Saídas de dinheiro',
    expectedCash: 'Dinheiro esperado',
    countedCash: 'Dinheiro contado',
    variance: 'Diferença',
    byKind: 'Por tipo',
    byTender: 'Vendas por forma de pagamento',
    slips: {
      payout: 'PAGAMENTO DE PRÊMIO',
      ticket_void: 'CANCELAMENTO DE BILHETE',
      sale_void: 'CANCELAMENTO DE VENDA',
      refund: 'DEVOLUÇÃO',
      cash_correction: 'CORREÇÃO DE CAIXA',
      topup_reversal: 'ESTORNO DE RECARGA',
    },
    ticket: 'Bilhete',
    sale: 'Venda',
    cashMovement: 'Movimento de caixa',
    topUp: 'Recarga',
    line: 'Linha',
    authorization: 'Autorização',
    paidOffline: 'Pago offline, por conta e risco da loja',
    staff: 'Equipe',
    approvedBy: 'Aprovado por',
    reason: 'Motivo',
    status: { pending: 'Aguardando confirmação', confirmed: 'Confirmado', needs_attention: 'Requer atenção' },
    kinds: {
      'sale.recorded': 'Vendas',
      'cash.moved.in': 'Entradas de dinheiro',
      'cash.moved.out': 'Saídas de dinheiro',
      'cash.corrected.in': 'Correções de caixa (entrada)',
      'cash.corrected.out': 'Correções de caixa (saída)',
      'wallet.topped_up': 'Recargas de pulseira',
      'wallet.refunded': 'Reembolsos de pulseira',
      'ticket.issued': 'Bilhetes',
      'ticket.paid': 'Pagamentos de prêmios',
      'ticket.voided': 'Cancelamentos de bilhetes',
      'sale.voided': 'Cancelamentos de vendas',
      'sale.refunded': 'Devoluções',
      'wallet.topup_reversed': 'Estornos de recarga',
    },
  },
};
