/**
 * The wristband tender's own words (en/es/pt), beside the SDK's catalog
 * (terminal/src/clerk-messages.ts: blocked, not enough balance, no chip,
 * other currency), which errorWords already gives.
 */
import type { MessageLanguage } from '@holdfast/domain';
import { LOCALE } from './words.js';

type WristbandWord = 'unfinished' | 'tap_again' | 'finished' | 'balance' | 'balance_left' | 'pick_one';

const WORDS: Record<MessageLanguage, Record<WristbandWord, string>> = {
  en: {
    unfinished: 'This wristband has a payment this till recorded but could not write. Tap it again to finish.',
    tap_again:
      'The sale is recorded, but the wristband left the reader before it was written. Tap the wristband again to finish.',
    finished: 'Wristband written: the unfinished payment is on the chip now.',
    balance: 'Balance on the wristband: {amount}.',
    balance_left: 'Left on the wristband: {amount}.',
    pick_one: 'Tap a wristband on the reader first.',
  },
  es: {
    unfinished:
      'Esta pulsera tiene un pago que la caja registró pero no pudo escribir. Acérquela de nuevo para terminar.',
    tap_again:
      'La venta está registrada, pero la pulsera se retiró antes de escribirse. Acérquela de nuevo al lector para terminar.',
    finished: 'Pulsera escrita: el pago pendiente ya está en el chip.',
    balance: 'Saldo en la pulsera: {amount}.',
    balance_left: 'Queda en la pulsera: {amount}.',
    pick_one: 'Primero acerque una pulsera al lector.',
  },
  pt: {
    unfinished:
      'Esta pulseira tem um pagamento que o caixa registrou mas não conseguiu gravar. Aproxime-a de novo para concluir.',
    tap_again:
      'A venda está registrada, mas a pulseira saiu do leitor antes de ser gravada. Aproxime a pulseira de novo para concluir.',
    finished: 'Pulseira gravada: o pagamento pendente já está no chip.',
    balance: 'Saldo na pulseira: {amount}.',
    balance_left: 'Resta na pulseira: {amount}.',
    pick_one: 'Primeiro aproxime uma pulseira do leitor.',
  },
};

export function wristbandWords(word: WristbandWord, amount?: string): string {
  return WORDS[LOCALE.language][word].replace('{amount}', amount ?? '');
}
