/**
 * What the clerk is told, in the till's language (English, Spanish or
 * Portuguese): every refusal the terminal raises before recording, every
 * online answer that is not an approval, and what a lost answer means.
 *
 * The errors keep their English `message` (for logs and developers); this
 * is the one place a till app turns them into words for the person at the
 * counter. Codes are stable; a code this catalog does not know gets a
 * generic sentence naming it, never a stack trace.
 */
import { type MessageLanguage, negotiateLocale, type Phrasebook, type SpokenLocale } from '@holdfast/domain';
import type { OnlineOutcome } from './online.js';

/** A message template: words, or words built from the error's figures. */
type Template = string | ((x: { attemptsLeft?: number; retryAfterMs?: number; code: string }) => string);

/** Every code a clerk can meet, with its sentence. */
export const CLERK_CODES = [
  // Offline policy and tenders.
  'needs_online',
  'wristband_blocked',
  'insufficient_balance',
  'currency',
  'no_chip',
  'refund_not_allowed',
  // Staff and approvals.
  'no_roster',
  'staff_unknown',
  'staff_no_pin',
  'wrong_pin',
  'locked_out',
  'staff_required',
  'approval_required',
  'approval_role',
  'approval_not_needed',
  // Corrections and voids.
  'void_refused',
  'refund_over_sale',
  'refund_invalid',
  'sale_void_invalid',
  'approval_missing',
  // Cash corrections (cash-corrections.ts; docs/corrections.md).
  'cash_correction_invalid',
  'cash_correction_over',
  'approver_is_clerk',
  'no_open_shift',
  // The terminal itself.
  'not_enrolled',
  'device_revoked',
  'terminal_closed',
  'journal_locked',
  'record_outcome_unknown',
  'no_receipt',
  'timeout',
  'network',
  'bad_response',
  // Online declines (AuthorizeResponse.reason).
  'betting_not_configured',
  'currency_not_offered',
  'event_suspended',
  'market_suspended',
  'stake_below_min',
  'stake_above_max',
  'payout_above_max',
  'unknown_ticket',
  'ticket_paid',
  'ticket_unsettled',
  'ticket_voided',
  'ticket_lost',
  'processor_refused',
  // Stock (docs/catalog-and-stock.md).
  'out_of_stock',
  'stock_other_location',
  'not_placed',
  // Loyalty points (loyalty-points.ts, loyalty-online.ts; docs/loyalty.md).
  'loyalty_no_rule',
  'loyalty_sale_unknown',
  'loyalty_points_invalid',
  'loyalty_policy_invalid',
  'loyalty_insufficient_points',
  'loyalty_needs_online',
  'loyalty_redemption_used',
  'loyalty_member_unknown',
  'loyalty_redemption_unknown',
  'loyalty_code_wrong',
  'loyalty_code_expired',
  'loyalty_code_locked',
  'loyalty_answer_unverified',
  'loyalty_refused',
  // Wristband top-up reversal (wristband-payments.ts reverseTopUp; docs/wristbands.md §7b).
  'topup_unknown',
  'topup_other_shift',
  'topup_already_reversed',
  'topup_reversal_over',
  'topup_wrong_wristband',
  'topup_balance_spent',
  'topup_approval_by_clerk',
] as const;

export type ClerkCode = (typeof CLERK_CODES)[number];

const minutes = (ms: number | undefined) => Math.max(1, Math.ceil((ms ?? 60_000) / 60_000));

export const CLERK_MESSAGES: Phrasebook<Readonly<Record<ClerkCode, Template>> & { unknown: Template }> = {
  en: {
    needs_online: 'This payment needs the server: take another tender or wait for the connection.',
    wristband_blocked: 'This wristband is blocked. Send the customer to the info desk.',
    insufficient_balance: 'Not enough balance on the wristband.',
    currency: 'This wristband holds another currency.',
    no_chip: 'No wristband read. Hold it to the reader again.',
    refund_not_allowed: 'This sale was not paid with this wristband, or is refunded already.',
    no_roster: 'No staff list on this till yet. Connect it once to the server.',
    staff_unknown: 'Unknown staff member.',
    staff_no_pin: 'This staff member has no PIN set.',
    wrong_pin: ({ attemptsLeft }) =>
      attemptsLeft === undefined ? 'Wrong PIN.' : `Wrong PIN. ${attemptsLeft} attempts left.`,
    locked_out: ({ retryAfterMs }) => `Too many wrong PINs. Try again in ${minutes(retryAfterMs)} min.`,
    staff_required: 'Sign in first.',
    approval_required: 'A supervisor must approve this.',
    approval_role: 'This person may not approve this: call a supervisor.',
    approval_not_needed: 'No approval is needed for this.',
    void_refused: 'This ticket cannot be voided now (approval or time window).',
    refund_over_sale: 'More than was paid for this sale.',
    refund_invalid: 'This refund does not match the sale.',
    sale_void_invalid: 'This sale cannot be voided here: refund it instead.',
    approval_missing: 'Nobody can approve this on this till (no staff list).',
    cash_correction_invalid: 'This cash movement was not recorded on this till: it cannot be corrected here.',
    cash_correction_over: 'More than is left of this cash movement to correct.',
    approver_is_clerk: 'You cannot approve your own correction: call another supervisor.',
    no_open_shift: 'No shift is open: open one first.',
    not_enrolled: 'This till is not set up yet.',
    device_revoked: 'This till was switched off by the operator. Call your manager.',
    terminal_closed: 'The till is shutting down.',
    journal_locked: 'This till is already open in another window.',
    record_outcome_unknown:
      'The disk failed while saving. Do not ring it again: the till will show whether it was kept.',
    no_receipt: 'No receipt with this number on this till.',
    timeout: 'No answer yet. It is kept and will be sent: do not ring it again.',
    network: 'No connection. It is kept and will be sent: do not ring it again.',
    bad_response: 'The server answered something unreadable. It is kept and will be sent again.',
    betting_not_configured: 'Betting is not open on this server.',
    currency_not_offered: 'Bets in this currency are not taken.',
    event_suspended: 'This event is suspended.',
    market_suspended: 'This market is suspended.',
    stake_below_min: 'The stake is below the minimum.',
    stake_above_max: 'The stake is above the maximum.',
    payout_above_max: 'The potential payout is above the maximum.',
    unknown_ticket: 'Unknown ticket.',
    ticket_paid: 'This ticket was paid already.',
    ticket_unsettled: 'This ticket is not settled yet.',
    ticket_voided: 'This ticket was voided.',
    ticket_lost: 'This ticket did not win.',
    processor_refused: 'The card was declined.',
    out_of_stock: 'Out of stock: this till believes there is not enough left. Remove the item or offer another.',
    stock_other_location: 'This till belongs to another location: record the stock at a till of that location.',
    not_placed: 'This till is not assigned to a location yet. Call your manager.',
    loyalty_no_rule: 'Loyalty points are not set up on this till.',
    loyalty_sale_unknown: 'That sale is not on this till.',
    loyalty_points_invalid: 'Those points are not valid.',
    loyalty_policy_invalid: 'The loyalty rule on this till is broken. Call your manager.',
    loyalty_insufficient_points: 'The member does not have that many points.',
    loyalty_needs_online: 'That many points needs the server: send the member a code.',
    loyalty_redemption_used: 'These points were redeemed on this till already.',
    loyalty_member_unknown: 'Unknown loyalty card.',
    loyalty_redemption_unknown: 'That redemption is unknown: ask for a new code.',
    loyalty_code_wrong: ({ attemptsLeft }) =>
      attemptsLeft === undefined ? 'Wrong code.' : `Wrong code. ${attemptsLeft} attempts left.`,
    loyalty_code_expired: 'The code expired: send the member a new one.',
    loyalty_code_locked: 'Too many wrong codes: start the redemption again.',
    loyalty_answer_unverified: 'The server answer could not be checked. No points were redeemed.',
    loyalty_refused: 'The server refused these points.',
    topup_unknown: 'This top-up was not taken on this till: reverse it where it was taken.',
    topup_other_shift: 'This top-up belongs to another shift: it cannot be reversed now.',
    topup_already_reversed: 'This top-up was reversed already. Nothing more to give back.',
    topup_reversal_over: 'More than is left of this top-up.',
    topup_wrong_wristband: 'This is not the wristband that was topped up. Hold the right one to the reader.',
    topup_balance_spent: 'The wristband no longer holds this money: it was spent.',
    topup_approval_by_clerk: 'You cannot approve your own reversal: call another supervisor.',
    unknown: ({ code }) => `Refused (${code}).`,
  },
  es: {
    needs_online: 'Este pago necesita el servidor: use otro medio de pago o espere la conexión.',
    wristband_blocked: 'Esta pulsera está bloqueada. Envíe al cliente a información.',
    insufficient_balance: 'Saldo insuficiente en la pulsera.',
    currency: 'Esta pulsera tiene otra moneda.',
    no_chip: 'No se leyó ninguna pulsera. Acérquela de nuevo al lector.',
    refund_not_allowed: 'Esta venta no se pagó con esta pulsera, o ya se devolvió.',
    no_roster: 'Aún no hay lista de personal en esta caja. Conéctela una vez al servidor.',
    staff_unknown: 'Empleado desconocido.',
    staff_no_pin: 'Este empleado no tiene PIN.',
    wrong_pin: ({ attemptsLeft }) =>
      attemptsLeft === undefined ? 'PIN incorrecto.' : `PIN incorrecto. Quedan ${attemptsLeft} intentos.`,
    locked_out: ({ retryAfterMs }) =>
      `Demasiados PIN incorrectos. Vuelva a intentarlo en ${minutes(retryAfterMs)} min.`,
    staff_required: 'Inicie sesión primero.',
    approval_required: 'Un supervisor debe aprobarlo.',
    approval_role: 'Esta persona no puede aprobarlo: llame a un supervisor.',
    approval_not_needed: 'No hace falta aprobación.',
    void_refused: 'Este boleto no se puede anular ahora (aprobación o plazo).',
    refund_over_sale: 'Más de lo que se pagó por esta venta.',
    refund_invalid: 'Esta devolución no corresponde a la venta.',
    sale_void_invalid: 'Esta venta no se puede anular aquí: haga una devolución.',
    approval_missing: 'Nadie puede aprobarlo en esta caja (sin lista de personal).',
    cash_correction_invalid: 'Este movimiento de efectivo no se registró en esta caja: no se puede corregir aquí.',
    cash_correction_over: 'Más de lo que queda por corregir de este movimiento de efectivo.',
    approver_is_clerk: 'No puede aprobar su propia corrección: llame a otro supervisor.',
    no_open_shift: 'No hay ningún turno abierto: abra uno primero.',
    not_enrolled: 'Esta caja aún no está configurada.',
    device_revoked: 'El operador desactivó esta caja. Llame a su encargado.',
    terminal_closed: 'La caja se está cerrando.',
    journal_locked: 'Esta caja ya está abierta en otra ventana.',
    record_outcome_unknown: 'Falló el disco al guardar. No la vuelva a marcar: la caja indicará si se guardó.',
    no_receipt: 'No hay ningún recibo con este número en esta caja.',
    timeout: 'Aún sin respuesta. Se guarda y se enviará: no la vuelva a marcar.',
    network: 'Sin conexión. Se guarda y se enviará: no la vuelva a marcar.',
    bad_response: 'El servidor respondió algo ilegible. Se guarda y se enviará de nuevo.',
    betting_not_configured: 'Las apuestas no están abiertas en este servidor.',
    currency_not_offered: 'No se aceptan apuestas en esta moneda.',
    event_suspended: 'Este evento está suspendido.',
    market_suspended: 'Este mercado está suspendido.',
    stake_below_min: 'La apuesta está por debajo del mínimo.',
    stake_above_max: 'La apuesta está por encima del máximo.',
    payout_above_max: 'El premio posible supera el máximo.',
    unknown_ticket: 'Boleto desconocido.',
    ticket_paid: 'Este boleto ya se pagó.',
    ticket_unsettled: 'Este boleto aún no está liquidado.',
    ticket_voided: 'Este boleto fue anulado.',
    ticket_lost: 'Este boleto no ganó.',
    processor_refused: 'La tarjeta fue rechazada.',
    out_of_stock: 'Sin existencias: esta caja cree que no queda suficiente. Quite el artículo u ofrezca otro.',
    stock_other_location: 'Esta caja es de otro local: registre las existencias en una caja de ese local.',
    not_placed: 'Esta caja aún no está asignada a un local. Llame a su encargado.',
    loyalty_no_rule: 'Los puntos de fidelidad no están configurados en esta caja.',
    loyalty_sale_unknown: 'Esa venta no está en esta caja.',
    loyalty_points_invalid: 'Esos puntos no son válidos.',
    loyalty_policy_invalid: 'La regla de fidelidad de esta caja está dañada. Llame a su encargado.',
    loyalty_insufficient_points: 'El socio no tiene tantos puntos.',
    loyalty_needs_online: 'Tantos puntos necesitan el servidor: envíe un código al socio.',
    loyalty_redemption_used: 'Estos puntos ya se canjearon en esta caja.',
    loyalty_member_unknown: 'Tarjeta de fidelidad desconocida.',
    loyalty_redemption_unknown: 'Ese canje es desconocido: pida un código nuevo.',
    loyalty_code_wrong: ({ attemptsLeft }) =>
      attemptsLeft === undefined ? 'Código incorrecto.' : `Código incorrecto. Quedan ${attemptsLeft} intentos.`,
    loyalty_code_expired: 'El código caducó: envíe uno nuevo al socio.',
    loyalty_code_locked: 'Demasiados códigos incorrectos: empiece el canje de nuevo.',
    loyalty_answer_unverified: 'No se pudo verificar la respuesta del servidor. No se canjearon puntos.',
    loyalty_refused: 'El servidor rechazó estos puntos.',
    topup_unknown: 'Esta recarga no se hizo en esta caja: anúlela donde se hizo.',
    topup_other_shift: 'Esta recarga es de otro turno: no se puede anular ahora.',
    topup_already_reversed: 'Esta recarga ya se anuló. No queda nada por devolver.',
    topup_reversal_over: 'Más de lo que queda de esta recarga.',
    topup_wrong_wristband: 'Esta no es la pulsera recargada. Acerque la correcta al lector.',
    topup_balance_spent: 'La pulsera ya no tiene este dinero: se gastó.',
    topup_approval_by_clerk: 'No puede aprobar su propia anulación: llame a otro supervisor.',
    unknown: ({ code }) => `Rechazado (${code}).`,
  },
  pt: {
    needs_online: 'Este pagamento precisa do servidor: use outra forma de pagamento ou aguarde a conexão.',
    wristband_blocked: 'Esta pulseira está bloqueada. Encaminhe o cliente ao balcão de informações.',
    insufficient_balance: 'Saldo insuficiente na pulseira.',
    currency: 'Esta pulseira tem outra moeda.',
    no_chip: 'Nenhuma pulseira lida. Aproxime-a de novo do leitor.',
    refund_not_allowed: 'Esta venda não foi paga com esta pulseira, ou já foi devolvida.',
    no_roster: 'Ainda não há lista de equipe neste caixa. Conecte-o uma vez ao servidor.',
    staff_unknown: 'Funcionário desconhecido.',
    staff_no_pin: 'Este funcionário não tem PIN.',
    wrong_pin: ({ attemptsLeft }) =>
      attemptsLeft === undefined ? 'PIN incorreto.' : `PIN incorreto. Restam ${attemptsLeft} tentativas.`,
    locked_out: ({ retryAfterMs }) => `PIN incorreto demais. Tente de novo em ${minutes(retryAfterMs)} min.`,
    staff_required: 'Entre primeiro.',
    approval_required: 'Um supervisor precisa aprovar.',
    approval_role: 'Esta pessoa não pode aprovar: chame um supervisor.',
    approval_not_needed: 'Não é preciso aprovação.',
    void_refused: 'Este bilhete não pode ser cancelado agora (aprovação ou prazo).',
    refund_over_sale: 'Mais do que foi pago por esta venda.',
    refund_invalid: 'Esta devolução não corresponde à venda.',
    sale_void_invalid: 'Esta venda não pode ser cancelada aqui: faça uma devolução.',
    approval_missing: 'Ninguém pode aprovar neste caixa (sem lista de equipe).',
    cash_correction_invalid: 'Este movimento de caixa não foi registrado neste caixa: não pode ser corrigido aqui.',
    cash_correction_over: 'Mais do que resta a corrigir deste movimento de caixa.',
    approver_is_clerk: 'Você não pode aprovar a sua própria correção: chame outro supervisor.',
    no_open_shift: 'Nenhum turno aberto: abra um primeiro.',
    not_enrolled: 'Este caixa ainda não está configurado.',
    device_revoked: 'O operador desativou este caixa. Chame o seu gerente.',
    terminal_closed: 'O caixa está sendo fechado.',
    journal_locked: 'Este caixa já está aberto em outra janela.',
    record_outcome_unknown: 'O disco falhou ao gravar. Não registre de novo: o caixa mostrará se foi guardado.',
    no_receipt: 'Nenhum recibo com este número neste caixa.',
    timeout: 'Ainda sem resposta. Está guardado e será enviado: não registre de novo.',
    network: 'Sem conexão. Está guardado e será enviado: não registre de novo.',
    bad_response: 'O servidor respondeu algo ilegível. Está guardado e será enviado de novo.',
    betting_not_configured: 'As apostas não estão abertas neste servidor.',
    currency_not_offered: 'Não se aceitam apostas nesta moeda.',
    event_suspended: 'Este evento está suspenso.',
    market_suspended: 'Este mercado está suspenso.',
    stake_below_min: 'A aposta está abaixo do mínimo.',
    stake_above_max: 'A aposta está acima do máximo.',
    payout_above_max: 'O prêmio possível está acima do máximo.',
    unknown_ticket: 'Bilhete desconhecido.',
    ticket_paid: 'Este bilhete já foi pago.',
    ticket_unsettled: 'Este bilhete ainda não foi apurado.',
    ticket_voided: 'Este bilhete foi cancelado.',
    ticket_lost: 'Este bilhete não ganhou.',
    processor_refused: 'O cartão foi recusado.',
    out_of_stock: 'Sem estoque: este caixa acredita que não resta o suficiente. Retire o item ou ofereça outro.',
    stock_other_location: 'Este caixa é de outra loja: registe o estoque num caixa dessa loja.',
    not_placed: 'Este caixa ainda não está atribuído a uma loja. Chame o seu gerente.',
    loyalty_no_rule: 'Os pontos de fidelidade não estão configurados neste caixa.',
    loyalty_sale_unknown: 'Essa venda não está neste caixa.',
    loyalty_points_invalid: 'Esses pontos não são válidos.',
    loyalty_policy_invalid: 'A regra de fidelidade deste caixa está danificada. Chame o gerente.',
    loyalty_insufficient_points: 'O membro não tem tantos pontos.',
    loyalty_needs_online: 'Tantos pontos precisam do servidor: envie um código ao membro.',
    loyalty_redemption_used: 'Estes pontos já foram resgatados neste caixa.',
    loyalty_member_unknown: 'Cartão de fidelidade desconhecido.',
    loyalty_redemption_unknown: 'Esse resgate é desconhecido: peça um código novo.',
    loyalty_code_wrong: ({ attemptsLeft }) =>
      attemptsLeft === undefined ? 'Código incorreto.' : `Código incorreto. Restam ${attemptsLeft} tentativas.`,
    loyalty_code_expired: 'O código expirou: envie um novo ao membro.',
    loyalty_code_locked: 'Códigos incorretos demais: comece o resgate de novo.',
    loyalty_answer_unverified: 'Não foi possível verificar a resposta do servidor. Nenhum ponto foi resgatado.',
    loyalty_refused: 'O servidor recusou estes pontos.',
    topup_unknown: 'Esta recarga não foi feita neste caixa: estorne-a onde foi feita.',
    topup_other_shift: 'Esta recarga é de outro turno: não pode ser estornada agora.',
    topup_already_reversed: 'Esta recarga já foi estornada. Não há mais nada a devolver.',
    topup_reversal_over: 'Mais do que resta desta recarga.',
    topup_wrong_wristband: 'Esta não é a pulseira recarregada. Aproxime a correta do leitor.',
    topup_balance_spent: 'A pulseira já não tem este dinheiro: foi gasto.',
    topup_approval_by_clerk: 'Você não pode aprovar o seu próprio estorno: chame outro supervisor.',
    unknown: ({ code }) => `Recusado (${code}).`,
  },
};

function languageOf(locale: SpokenLocale | string): MessageLanguage {
  return typeof locale === 'string' ? negotiateLocale(locale).language : locale.language;
}

function render(language: MessageLanguage, code: string, figures: { attemptsLeft?: number; retryAfterMs?: number }) {
  const book = CLERK_MESSAGES[language];
  const template = (Object.hasOwn(book, code) ? book[code as ClerkCode] : book.unknown) as Template;
  return typeof template === 'string' ? template : template({ ...figures, code });
}

/**
 * The words for a clerk for `error` (anything a terminal call threw), in
 * `locale` (a SpokenLocale, or a language tag such as `es-MX`).
 */
export function clerkMessage(error: unknown, locale: SpokenLocale | string): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    attemptsLeft?: unknown;
    retryAfterMs?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : 'unknown';
  return render(languageOf(locale), code, {
    ...(typeof e.attemptsLeft === 'number' ? { attemptsLeft: e.attemptsLeft } : {}),
    ...(typeof e.retryAfterMs === 'number' ? { retryAfterMs: e.retryAfterMs } : {}),
  });
}

/** The words for an online answer that is not an approval, or null for an approval. */
export function onlineOutcomeMessage(outcome: OnlineOutcome, locale: SpokenLocale | string): string | null {
  const language = languageOf(locale);
  switch (outcome.state) {
    case 'approved':
      return null;
    case 'declined':
      return render(language, outcome.reason, {});
    case 'refused':
      return render(language, outcome.code, {});
    case 'pending_confirmation':
      return render(language, 'timeout', {});
  }
}

/** The server's word on a shift's Z report, as the till shows it (Terminal.shiftReport; `unknown`: no answer). */
export type ZReportState = 'confirmed' | 'differs' | 'open' | 'unknown';

const Z_REPORT_MESSAGES: Phrasebook<Readonly<Record<ZReportState, string>>> = {
  en: {
    confirmed: 'Z report confirmed by the server.',
    differs: "The server's Z report differs from this till's. Call your manager.",
    open: 'The server has not received the close of this shift yet.',
    unknown: 'No answer from the server about the Z report yet.',
  },
  es: {
    confirmed: 'Informe Z confirmado por el servidor.',
    differs: 'El informe Z del servidor no coincide con el de esta caja. Llame a su encargado.',
    open: 'El servidor aún no recibió el cierre de este turno.',
    unknown: 'El servidor aún no respondió sobre el informe Z.',
  },
  pt: {
    confirmed: 'Relatório Z confirmado pelo servidor.',
    differs: 'O relatório Z do servidor difere do deste caixa. Chame o seu gerente.',
    open: 'O servidor ainda não recebeu o fechamento deste turno.',
    unknown: 'O servidor ainda não respondeu sobre o relatório Z.',
  },
};

/** The words for the server's word on a shift's Z report, in `locale`. */
export function zReportMessage(state: ZReportState, locale: SpokenLocale | string): string {
  return Z_REPORT_MESSAGES[languageOf(locale)][state];
}
