/**
 * The risk policy's answers in the clerk's words (en/es/pt, the till's
 * language as words.ts negotiates it): a card payment approved on this till
 * within the offline limit, a card payment refused because a limit of the
 * policy sends it to the server while the server cannot be reached
 * (refused, never guessed), a card payment asked of the card processor
 * through the server (asking, approved, declined, or waiting for the
 * server's answer), and a card payment the processor declined after the
 * sale; and the same answers on a wristband payment, under the policy's
 * wristband limits (a wristband payment is never asked of the server). Money only through
 * formatMoney, in the locale's format.
 */
import type { MessageLanguage } from '@holdfast/domain';
import type { TillDeclineView, TillPolicyView } from '@holdfast/terminal-web/client';
import { formatMoney } from '../shared/money.js';
import { LOCALE } from './words.js';

type Money = (minor: number, currency: string) => string;
const money: Money = (minor, currency) => formatMoney(minor, currency, LOCALE.format);

/** Why the policy sent a card payment to the server, by its rule (domain risk.ts RiskRule). */
type Reason =
  | 'no_policy'
  | 'policy_invalid'
  | 'policy_scope'
  | 'policy_not_yet_valid'
  | 'policy_expired'
  | 'max_offline_duration'
  | 'currency'
  | 'tender_not_allowed'
  | 'floor_limit'
  | 'device_amount'
  | 'device_count'
  | 'instrument_amount'
  | 'instrument_count'
  | 'instrument_velocity'
  | 'other';

interface Words {
  approved: (limit: string) => string;
  approvedNoLimit: string;
  refused: string;
  take: string;
  reasons: Record<Reason, (limit: string) => string>;
  declined: (amount: string, brand: string, last4: string) => string;
  declineAdvice: string;
  declinesTitle: string;
  declinedBadge: string;
  policyHeld: (limit: string, held: string) => string;
  noPolicy: string;
  online: {
    asking: (amount: string) => string;
    approved: string;
    declined: (amount: string) => string;
    refused: string;
    waiting: (amount: string, brand: string, last4: string) => string;
    waitingAdvice: string;
    waitingTitle: string;
    askAgain: string;
  };
}

const WORDS: Record<MessageLanguage, Words> = {
  en: {
    approved: (limit) =>
      `Card approved on this till, within the offline limit of ${limit} per card payment. The server confirms it when it is reachable.`,
    approvedNoLimit:
      'Card approved on this till under the offline policy. The server confirms it when it is reachable.',
    refused: 'Card NOT taken: nothing was recorded.',
    take: 'Take cash, or try the card again once the till is back online.',
    reasons: {
      no_policy: () => 'This till holds no card policy yet, so every card payment needs the network.',
      policy_invalid: () => 'The card policy on this till does not verify: every card payment needs the network.',
      policy_scope: () => 'The card policy does not cover this till: card payments need the network.',
      policy_not_yet_valid: () => 'The card policy is not valid yet: card payments need the network.',
      policy_expired: () => 'The card policy has expired: card payments need the network.',
      max_offline_duration: () => 'This till has been offline too long to approve cards on its own: needs the network.',
      currency: () => 'The card policy is for another currency: this payment needs the network.',
      tender_not_allowed: () => 'The card policy allows no card payment offline: needs the network.',
      floor_limit: (limit) => `Over the offline limit of ${limit} per card payment: needs the network.`,
      device_amount: () =>
        'This till already holds as much unconfirmed card money as it may offline: needs the network.',
      device_count: () =>
        'This till already holds as many unconfirmed card payments as it may offline: needs the network.',
      instrument_amount: () => 'Over this card’s offline limit on this till: needs the network.',
      instrument_count: () => 'This card has been used offline as often as allowed: needs the network.',
      instrument_velocity: () => 'This card was used too often in a short time: needs the network.',
      other: () => 'This card payment needs the network.',
    },
    declined: (amount, brand, last4) => `${amount} on ${brand} •••• ${last4} was declined after the sale.`,
    declineAdvice: 'The customer has the goods and the shop has not been paid: call your manager.',
    declinesTitle: 'Card payments declined after the sale',
    declinedBadge: 'declined',
    policyHeld: (limit, held) => `Offline card limit ${limit} per payment; ${held} held on this till, unconfirmed.`,
    noPolicy: 'No card policy on this till yet: card payments need the network.',
    online: {
      asking: (amount) => `Asking the card processor for ${amount}…`,
      approved: 'Card approved online by the card processor.',
      declined: (amount) => `Card declined by the card processor: ${amount} NOT taken, nothing was recorded.`,
      refused: 'The server refused to ask the card processor: nothing was recorded.',
      waiting: (amount, brand, last4) =>
        `${amount} on ${brand} •••• ${last4}: waiting for the server's answer. Not recorded yet; the till asks again.`,
      waitingAdvice: 'Do not charge this card again: the answer comes when the server is reachable.',
      waitingTitle: 'Card payments waiting for the server',
      askAgain: 'Ask the server again',
    },
  },
  es: {
    approved: (limit) =>
      `Tarjeta aprobada en esta caja, dentro del límite sin conexión de ${limit} por pago con tarjeta. El servidor la confirma cuando responda.`,
    approvedNoLimit:
      'Tarjeta aprobada en esta caja según la política sin conexión. El servidor la confirma cuando responda.',
    refused: 'Tarjeta NO cobrada: no se registró nada.',
    take: 'Cobre en efectivo, o vuelva a pasar la tarjeta cuando la caja tenga conexión.',
    reasons: {
      no_policy: () => 'Esta caja aún no tiene política de tarjetas: todo pago con tarjeta necesita la red.',
      policy_invalid: () =>
        'La política de tarjetas de esta caja no se verifica: todo pago con tarjeta necesita la red.',
      policy_scope: () => 'La política de tarjetas no cubre esta caja: los pagos con tarjeta necesitan la red.',
      policy_not_yet_valid: () => 'La política de tarjetas aún no es válida: los pagos con tarjeta necesitan la red.',
      policy_expired: () => 'La política de tarjetas caducó: los pagos con tarjeta necesitan la red.',
      max_offline_duration: () =>
        'Esta caja lleva demasiado tiempo sin conexión para aprobar tarjetas: necesita la red.',
      currency: () => 'La política de tarjetas es de otra moneda: este pago necesita la red.',
      tender_not_allowed: () => 'La política no permite tarjetas sin conexión: necesita la red.',
      floor_limit: (limit) => `Supera el límite sin conexión de ${limit} por pago con tarjeta: necesita la red.`,
      device_amount: () => 'Esta caja ya tiene todo el importe con tarjeta sin confirmar que admite: necesita la red.',
      device_count: () => 'Esta caja ya tiene todos los pagos con tarjeta sin confirmar que admite: necesita la red.',
      instrument_amount: () => 'Supera el límite sin conexión de esta tarjeta en esta caja: necesita la red.',
      instrument_count: () => 'Esta tarjeta ya se usó sin conexión tantas veces como se permite: necesita la red.',
      instrument_velocity: () => 'Esta tarjeta se usó demasiadas veces en poco tiempo: necesita la red.',
      other: () => 'Este pago con tarjeta necesita la red.',
    },
    declined: (amount, brand, last4) => `${amount} con ${brand} •••• ${last4} fue rechazado después de la venta.`,
    declineAdvice: 'El cliente tiene la mercancía y la tienda no cobró: llame a su encargado.',
    declinesTitle: 'Pagos con tarjeta rechazados después de la venta',
    declinedBadge: 'rechazado',
    policyHeld: (limit, held) => `Límite sin conexión ${limit} por pago; ${held} sin confirmar en esta caja.`,
    noPolicy: 'Esta caja aún no tiene política de tarjetas: los pagos con tarjeta necesitan la red.',
    online: {
      asking: (amount) => `Consultando al procesador de tarjetas por ${amount}…`,
      approved: 'Tarjeta aprobada en línea por el procesador de tarjetas.',
      declined: (amount) => `Tarjeta rechazada por el procesador: ${amount} NO cobrado, no se registró nada.`,
      refused: 'El servidor se negó a consultar al procesador: no se registró nada.',
      waiting: (amount, brand, last4) =>
        `${amount} con ${brand} •••• ${last4}: esperando la respuesta del servidor. Aún sin registrar; la caja vuelve a preguntar.`,
      waitingAdvice: 'No vuelva a cobrar esta tarjeta: la respuesta llega cuando el servidor responda.',
      waitingTitle: 'Pagos con tarjeta esperando al servidor',
      askAgain: 'Preguntar de nuevo al servidor',
    },
  },
  pt: {
    approved: (limit) =>
      `Cartão aprovado neste caixa, dentro do limite sem conexão de ${limit} por pagamento com cartão. O servidor confirma quando responder.`,
    approvedNoLimit: 'Cartão aprovado neste caixa pela política sem conexão. O servidor confirma quando responder.',
    refused: 'Cartão NÃO cobrado: nada foi registrado.',
    take: 'Receba em dinheiro, ou passe o cartão de novo quando o caixa estiver online.',
    reasons: {
      no_policy: () => 'Este caixa ainda não tem política de cartões: todo pagamento com cartão precisa da rede.',
      policy_invalid: () =>
        'A política de cartões deste caixa não se verifica: todo pagamento com cartão precisa da rede.',
      policy_scope: () => 'A política de cartões não cobre este caixa: pagamentos com cartão precisam da rede.',
      policy_not_yet_valid: () => 'A política de cartões ainda não é válida: pagamentos com cartão precisam da rede.',
      policy_expired: () => 'A política de cartões expirou: pagamentos com cartão precisam da rede.',
      max_offline_duration: () => 'Este caixa está sem conexão há tempo demais para aprovar cartões: precisa da rede.',
      currency: () => 'A política de cartões é de outra moeda: este pagamento precisa da rede.',
      tender_not_allowed: () => 'A política não permite cartões sem conexão: precisa da rede.',
      floor_limit: (limit) => `Acima do limite sem conexão de ${limit} por pagamento com cartão: precisa da rede.`,
      device_amount: () => 'Este caixa já tem todo o valor em cartão não confirmado que pode ter: precisa da rede.',
      device_count: () =>
        'Este caixa já tem todos os pagamentos com cartão não confirmados que pode ter: precisa da rede.',
      instrument_amount: () => 'Acima do limite sem conexão deste cartão neste caixa: precisa da rede.',
      instrument_count: () => 'Este cartão já foi usado sem conexão tantas vezes quanto permitido: precisa da rede.',
      instrument_velocity: () => 'Este cartão foi usado vezes demais em pouco tempo: precisa da rede.',
      other: () => 'Este pagamento com cartão precisa da rede.',
    },
    declined: (amount, brand, last4) => `${amount} no ${brand} •••• ${last4} foi recusado depois da venda.`,
    declineAdvice: 'O cliente levou a mercadoria e a loja não recebeu: chame o gerente.',
    declinesTitle: 'Pagamentos com cartão recusados depois da venda',
    declinedBadge: 'recusado',
    policyHeld: (limit, held) => `Limite sem conexão ${limit} por pagamento; ${held} não confirmados neste caixa.`,
    noPolicy: 'Este caixa ainda não tem política de cartões: pagamentos com cartão precisam da rede.',
    online: {
      asking: (amount) => `Consultando o processador de cartões para ${amount}…`,
      approved: 'Cartão aprovado online pelo processador de cartões.',
      declined: (amount) => `Cartão recusado pelo processador: ${amount} NÃO cobrado, nada foi registrado.`,
      refused: 'O servidor se recusou a consultar o processador: nada foi registrado.',
      waiting: (amount, brand, last4) =>
        `${amount} no ${brand} •••• ${last4}: aguardando a resposta do servidor. Ainda não registrado; o caixa pergunta de novo.`,
      waitingAdvice: 'Não cobre este cartão de novo: a resposta vem quando o servidor responder.',
      waitingTitle: 'Pagamentos com cartão aguardando o servidor',
      askAgain: 'Perguntar de novo ao servidor',
    },
  },
};

const words = (): Words => WORDS[LOCALE.language];

/** The floor limit in the policy's currency, or null when the policy names none for cards. */
function limitOf(policy: TillPolicyView | null): string | null {
  return policy !== null && policy.cardFloorLimit !== null ? money(policy.cardFloorLimit, policy.currency) : null;
}

/** A card payment the policy approved on this till (decision mode local). */
export function approvedWords(policy: TillPolicyView | null): string {
  const limit = limitOf(policy);
  return limit === null ? words().approvedNoLimit : words().approved(limit);
}

/** A card payment refused because the policy's `rule` sends it to the server. */
export function refusedWords(rule: string | undefined, policy: TillPolicyView | null): string {
  const w = words();
  const reason = (rule !== undefined && rule in w.reasons ? rule : 'other') as Reason;
  const limit = limitOf(policy) ?? '';
  return `${w.refused} ${w.reasons[reason](limit)} ${w.take}`;
}

/** A card payment the processor declined after the sale. */
export function declineWords(d: TillDeclineView): string {
  const brand = d.brand.length > 0 ? d.brand.charAt(0).toUpperCase() + d.brand.slice(1) : 'card';
  return words().declined(money(d.amount, d.currency), brand, d.last4);
}

export function declineAdvice(): string {
  return words().declineAdvice;
}

export function declinedBadge(): string {
  return words().declinedBadge;
}

export function declinesTitle(): string {
  return words().declinesTitle;
}

/**
 * One line on the Sell screen: the offline card limit and what the till
 * holds unconfirmed, then the offline wristband limit when the policy
 * (verified) names one.
 */
export function policyLine(policy: TillPolicyView | null): string {
  const limit = limitOf(policy);
  const card =
    policy === null || !policy.valid || limit === null
      ? words().noPolicy
      : words().policyHeld(limit, money(policy.exposure.amount, policy.currency));
  const wristband = policy?.valid ? wristbandLimitOf(policy) : null;
  return wristband === null ? card : `${card} ${WRISTBAND_WORDS[LOCALE.language].limitLine(wristband)}`;
}

/** The policy's answers on a wristband payment (its `tenders.wristband` limits). */
interface WristbandPolicyWords {
  approved: (limit: string) => string;
  approvedNoLimit: string;
  refused: string;
  take: string;
  reasons: Record<Reason, (limit: string) => string>;
  /** On the Sell screen's policy line, after the card limit. */
  limitLine: (limit: string) => string;
}

const WRISTBAND_WORDS: Record<MessageLanguage, WristbandPolicyWords> = {
  en: {
    approved: (limit) =>
      `Wristband payment approved on this till, within the offline limit of ${limit} per wristband payment. The server confirms it when it is reachable.`,
    approvedNoLimit:
      'Wristband payment approved on this till under the offline policy. The server confirms it when it is reachable.',
    refused: 'Wristband NOT charged: nothing was recorded and the wristband was not written.',
    take: 'Take cash or a card instead (this till cannot ask the server to approve a wristband payment).',
    reasons: {
      no_policy: () => 'This till holds no offline policy yet, so every wristband payment needs the network.',
      policy_invalid: () =>
        'The offline policy on this till does not verify: every wristband payment needs the network.',
      policy_scope: () => 'The offline policy does not cover this till: wristband payments need the network.',
      policy_not_yet_valid: () => 'The offline policy is not valid yet: wristband payments need the network.',
      policy_expired: () => 'The offline policy has expired: wristband payments need the network.',
      max_offline_duration: () =>
        'This till has been offline too long to approve wristband payments on its own: needs the network.',
      currency: () => 'The offline policy is for another currency: this wristband payment needs the network.',
      tender_not_allowed: () => 'The offline policy allows no wristband payment offline: needs the network.',
      floor_limit: (limit) => `Over the offline limit of ${limit} per wristband payment: needs the network.`,
      device_amount: () => 'This till already holds as much unconfirmed money as it may offline: needs the network.',
      device_count: () => 'This till already holds as many unconfirmed payments as it may offline: needs the network.',
      instrument_amount: () => 'Over this wristband’s offline limit on this till: needs the network.',
      instrument_count: () => 'This wristband has been used offline as often as allowed: needs the network.',
      instrument_velocity: () => 'This wristband was used too often in a short time: needs the network.',
      other: () => 'This wristband payment needs the network.',
    },
    limitLine: (limit) => `Offline wristband limit ${limit} per payment.`,
  },
  es: {
    approved: (limit) =>
      `Pago con pulsera aprobado en esta caja, dentro del límite sin conexión de ${limit} por pago con pulsera. El servidor lo confirma cuando responda.`,
    approvedNoLimit:
      'Pago con pulsera aprobado en esta caja según la política sin conexión. El servidor lo confirma cuando responda.',
    refused: 'Pulsera NO cobrada: no se registró nada y la pulsera no se escribió.',
    take: 'Cobre en efectivo o con tarjeta (esta caja no puede pedir al servidor que apruebe un pago con pulsera).',
    reasons: {
      no_policy: () => 'Esta caja aún no tiene política sin conexión: todo pago con pulsera necesita la red.',
      policy_invalid: () =>
        'La política sin conexión de esta caja no se verifica: todo pago con pulsera necesita la red.',
      policy_scope: () => 'La política sin conexión no cubre esta caja: los pagos con pulsera necesitan la red.',
      policy_not_yet_valid: () => 'La política sin conexión aún no es válida: los pagos con pulsera necesitan la red.',
      policy_expired: () => 'La política sin conexión caducó: los pagos con pulsera necesitan la red.',
      max_offline_duration: () =>
        'Esta caja lleva demasiado tiempo sin conexión para aprobar pagos con pulsera: necesita la red.',
      currency: () => 'La política sin conexión es de otra moneda: este pago con pulsera necesita la red.',
      tender_not_allowed: () => 'La política no permite pagos con pulsera sin conexión: necesita la red.',
      floor_limit: (limit) => `Supera el límite sin conexión de ${limit} por pago con pulsera: necesita la red.`,
      device_amount: () => 'Esta caja ya tiene todo el importe sin confirmar que admite: necesita la red.',
      device_count: () => 'Esta caja ya tiene todos los pagos sin confirmar que admite: necesita la red.',
      instrument_amount: () => 'Supera el límite sin conexión de esta pulsera en esta caja: necesita la red.',
      instrument_count: () => 'Esta pulsera ya se usó sin conexión tantas veces como se permite: necesita la red.',
      instrument_velocity: () => 'Esta pulsera se usó demasiadas veces en poco tiempo: necesita la red.',
      other: () => 'Este pago con pulsera necesita la red.',
    },
    limitLine: (limit) => `Límite sin conexión con pulsera ${limit} por pago.`,
  },
  pt: {
    approved: (limit) =>
      `Pagamento com pulseira aprovado neste caixa, dentro do limite sem conexão de ${limit} por pagamento com pulseira. O servidor confirma quando responder.`,
    approvedNoLimit:
      'Pagamento com pulseira aprovado neste caixa pela política sem conexão. O servidor confirma quando responder.',
    refused: 'Pulseira NÃO cobrada: nada foi registrado e a pulseira não foi gravada.',
    take: 'Receba em dinheiro ou cartão (este caixa não pode pedir ao servidor que aprove um pagamento com pulseira).',
    reasons: {
      no_policy: () => 'Este caixa ainda não tem política sem conexão: todo pagamento com pulseira precisa da rede.',
      policy_invalid: () =>
        'A política sem conexão deste caixa não se verifica: todo pagamento com pulseira precisa da rede.',
      policy_scope: () => 'A política sem conexão não cobre este caixa: pagamentos com pulseira precisam da rede.',
      policy_not_yet_valid: () =>
        'A política sem conexão ainda não é válida: pagamentos com pulseira precisam da rede.',
      policy_expired: () => 'A política sem conexão expirou: pagamentos com pulseira precisam da rede.',
      max_offline_duration: () =>
        'Este caixa está sem conexão há tempo demais para aprovar pagamentos com pulseira: precisa da rede.',
      currency: () => 'A política sem conexão é de outra moeda: este pagamento com pulseira precisa da rede.',
      tender_not_allowed: () => 'A política não permite pagamentos com pulseira sem conexão: precisa da rede.',
      floor_limit: (limit) => `Acima do limite sem conexão de ${limit} por pagamento com pulseira: precisa da rede.`,
      device_amount: () => 'Este caixa já tem todo o valor não confirmado que pode ter: precisa da rede.',
      device_count: () => 'Este caixa já tem todos os pagamentos não confirmados que pode ter: precisa da rede.',
      instrument_amount: () => 'Acima do limite sem conexão desta pulseira neste caixa: precisa da rede.',
      instrument_count: () => 'Esta pulseira já foi usada sem conexão tantas vezes quanto permitido: precisa da rede.',
      instrument_velocity: () => 'Esta pulseira foi usada vezes demais em pouco tempo: precisa da rede.',
      other: () => 'Este pagamento com pulseira precisa da rede.',
    },
    limitLine: (limit) => `Limite sem conexão com pulseira ${limit} por pagamento.`,
  },
};

/** The wristband floor limit in the policy's currency, or null when the policy names none for wristbands. */
function wristbandLimitOf(policy: TillPolicyView | null): string | null {
  return policy !== null && policy.wristbandFloorLimit !== null
    ? money(policy.wristbandFloorLimit, policy.currency)
    : null;
}

/** A wristband payment the policy approved on this till (decision mode local). */
export function wristbandApprovedWords(policy: TillPolicyView | null): string {
  const w = WRISTBAND_WORDS[LOCALE.language];
  const limit = wristbandLimitOf(policy);
  return limit === null ? w.approvedNoLimit : w.approved(limit);
}

/** A wristband payment refused because the policy's `rule` sends it to the server. */
export function wristbandRefusedWords(rule: string | undefined, policy: TillPolicyView | null): string {
  const w = WRISTBAND_WORDS[LOCALE.language];
  const reason = (rule !== undefined && rule in w.reasons ? rule : 'other') as Reason;
  return `${w.refused} ${w.reasons[reason](wristbandLimitOf(policy) ?? '')} ${w.take}`;
}

/** The words of a card payment asked of the card processor through the server (online authorization). */
export function onlineWords(): Words['online'] {
  return words().online;
}

/** A card payment waiting for the server's answer, with its amount and card. */
export function waitingWords(p: { amount: number; currency: string; brand: string; last4: string }): string {
  const brand = p.brand.length > 0 ? p.brand.charAt(0).toUpperCase() + p.brand.slice(1) : 'card';
  return words().online.waiting(money(p.amount, p.currency), brand, p.last4);
}
