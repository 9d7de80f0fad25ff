/**
 * What the clerk is told when something goes wrong, in the till's language:
 * the Terminal SDK's catalog (terminal/src/clerk-messages.ts: every refusal
 * and online outcome, en/es/pt) first, and here only what belongs to the
 * browser: its storage, the worker, and enrollment's refusals.
 */
import { type MessageLanguage, negotiateLocale, type SpokenLocale } from '@holdfast/domain';
import { CLERK_CODES, clerkMessage } from '@holdfast/terminal/portable';

export const LOCALE: SpokenLocale = negotiateLocale(navigator.languages.join(','));

type AppCode =
  | 'opfs_unavailable'
  | 'storage_full'
  | 'journal_failed'
  | 'journal_closed'
  | 'persistence_refused'
  | 'token_invalid'
  | 'token_expired'
  | 'token_used'
  | 'enrollment_refused'
  | 'offline'
  | 'bad_answers'
  | 'bad_till_name'
  | 'staff_removed'
  | 'unlocks_at'
  | 'nobody_signed_in'
  | 'no_staff_list';

const APP_WORDS: Record<MessageLanguage, Record<AppCode, string>> = {
  en: {
    opfs_unavailable:
      'This browser cannot keep the till’s records (no private file storage: a private window?). Open the till in a normal window.',
    storage_full:
      'The device’s storage is full: this sale may not have been kept. Do not ring it again yet: free some space and reload the till; Needs attention (F3) will say whether it was kept.',
    journal_failed: 'The till’s storage failed; the sale was not recorded. Reload the page.',
    journal_closed: 'The till was closed. Reload the page.',
    persistence_refused:
      'This browser may clear the till’s storage when the disk is short: keep the till online until sales are confirmed.',
    token_invalid: 'That token is not valid. Check it, or ask the operator for a new one.',
    token_expired: 'That token has expired. Ask the operator for a new one.',
    token_used: 'That token was already used by another till. Ask the operator for a new one.',
    enrollment_refused: 'The server refused the token.',
    offline: 'Offline: sales are kept on this till and sent when the server is reachable.',
    bad_answers: 'The server’s answers cannot be read: sales are kept on this till and sent again.',
    bad_till_name: 'The till’s name must be 1 to 64 letters, digits, “-” or “_”.',
    staff_removed: '{name} is no longer on this location’s staff list and was signed out.',
    unlocks_at: 'Unlocks at {time}.',
    nobody_signed_in: 'Nobody signed in',
    no_staff_list: 'No staff list yet: sales carry no staff member.',
  },
  es: {
    opfs_unavailable:
      'Este navegador no puede guardar los registros de la caja (¿ventana privada?). Abra la caja en una ventana normal.',
    storage_full:
      'El almacenamiento está lleno: puede que la venta no se haya guardado. No la vuelva a marcar aún: libere espacio y recargue la caja; Atención (F3) dirá si se guardó.',
    journal_failed: 'Falló el almacenamiento de la caja; la venta no se registró. Recargue la página.',
    journal_closed: 'La caja se cerró. Recargue la página.',
    persistence_refused:
      'Este navegador puede borrar los datos de la caja si falta espacio: mantenga la caja en línea hasta que se confirmen las ventas.',
    token_invalid: 'Ese código no es válido. Revíselo o pida uno nuevo al operador.',
    token_expired: 'Ese código caducó. Pida uno nuevo al operador.',
    token_used: 'Otra caja ya usó ese código. Pida uno nuevo al operador.',
    enrollment_refused: 'El servidor rechazó el código.',
    offline: 'Sin conexión: las ventas se guardan en esta caja y se envían cuando haya servidor.',
    bad_answers: 'No se pueden leer las respuestas del servidor: las ventas se guardan y se reenvían.',
    bad_till_name: 'El nombre de la caja debe tener de 1 a 64 letras, cifras, «-» o «_».',
    staff_removed: '{name} ya no está en la lista de personal de este local y se cerró su sesión.',
    unlocks_at: 'Se desbloquea a las {time}.',
    nobody_signed_in: 'Nadie ha iniciado sesión',
    no_staff_list: 'Aún no hay lista de personal: las ventas no llevan empleado.',
  },
  pt: {
    opfs_unavailable:
      'Este navegador não consegue guardar os registros do caixa (janela privada?). Abra o caixa numa janela normal.',
    storage_full:
      'O armazenamento está cheio: a venda pode não ter sido guardada. Não registre de novo ainda: libere espaço e recarregue o caixa; Atenção (F3) dirá se foi guardada.',
    journal_failed: 'O armazenamento do caixa falhou; a venda não foi registrada. Recarregue a página.',
    journal_closed: 'O caixa foi fechado. Recarregue a página.',
    persistence_refused:
      'Este navegador pode apagar os dados do caixa se faltar espaço: mantenha o caixa online até as vendas serem confirmadas.',
    token_invalid: 'Esse código não é válido. Confira ou peça um novo ao operador.',
    token_expired: 'Esse código expirou. Peça um novo ao operador.',
    token_used: 'Outro caixa já usou esse código. Peça um novo ao operador.',
    enrollment_refused: 'O servidor recusou o código.',
    offline: 'Sem conexão: as vendas ficam neste caixa e são enviadas quando o servidor responder.',
    bad_answers: 'As respostas do servidor não podem ser lidas: as vendas ficam guardadas e são reenviadas.',
    bad_till_name: 'O nome do caixa deve ter de 1 a 64 letras, dígitos, “-” ou “_”.',
    staff_removed: '{name} não está mais na lista de equipe deste local e teve a sessão encerrada.',
    unlocks_at: 'Desbloqueia às {time}.',
    nobody_signed_in: 'Ninguém entrou',
    no_staff_list: 'Ainda não há lista de equipe: as vendas não levam funcionário.',
  },
};

export function appWords(code: AppCode, fill: Readonly<Record<string, string>> = {}): string {
  return APP_WORDS[LOCALE.language][code].replace(/\{(\w+)\}/g, (whole, key: string) => fill[key] ?? whole);
}

const KNOWN = new Set<string>(CLERK_CODES);

/** Words for anything a till call threw (a BrowserJournalError carrying the SDK error's code). */
export function errorWords(error: unknown): string {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    serverCode?: unknown;
    message?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  switch (code) {
    case 'opfs_unavailable':
    case 'storage_full':
    case 'journal_closed':
      return appWords(code);
    case 'journal_failed':
      return `${appWords('journal_failed')} (${message})`;
    case 'enrollment_rejected': {
      const server = typeof e.serverCode === 'string' ? e.serverCode : '';
      if (server === 'token_invalid' || server === 'token_expired' || server === 'token_used') return appWords(server);
      // A malformed token (wrong length, a stray character from the paste) is refused before it is looked up.
      if (server === 'invalid_request') return appWords('token_invalid');
      return `${appWords('enrollment_refused')} (${message})`;
    }
    case 'validation':
      return message;
  }
  if (KNOWN.has(code)) return clerkMessage(error, LOCALE);
  // A code the catalog does not know: its generic sentence, and what the till said.
  return `${clerkMessage(error, LOCALE)} ${message}`;
}
