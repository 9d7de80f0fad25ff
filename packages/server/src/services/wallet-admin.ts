/**
 * The operator's view of wristband wallets: accounts by uid, one account
 * with its entries, and lifting a block. Inputs arrive validated by the
 * HTTP layer; an unknown wallet is ProtocolError('not_found').
 */
import type { Clock } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';
import type { UnblockOutcome, WalletAccountRecord, WalletFilter, WalletView } from '../model/wallet.js';
import type { Storage } from '../storage/storage.js';

export class WalletAdmin {
  readonly #storage: Storage;
  readonly #clock: Clock;

  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  /** Wallet accounts by wristband uid, filtered. */
  list(filter: WalletFilter): Promise<WalletAccountRecord[]> {
    return this.#storage.listWallets(filter);
  }

  /** One wallet: account, entries, blocked state; not_found for an unknown wristband. */
  async get(wristband: string): Promise<WalletView> {
    const view = await this.#storage.getWallet(wristband);
    if (!view) throw new ProtocolError('not_found', `no wallet for wristband ${wristband}`);
    return view;
  }

  /**
   * Lifts a wristband's block (a `wristband.unblocked` ledger event naming
   * `device`, default the device whose op blocked it). Refused: a `device`
   * that is not enrolled (invalid_request), an unknown wallet (not_found).
   */
  async unblock(wristband: string, request: { reason: string; device?: string | undefined }): Promise<UnblockOutcome> {
    if (request.device !== undefined && !(await this.#storage.getDevice(request.device))) {
      throw new ProtocolError('invalid_request', `no device ${request.device}`, {
        field: 'body.device',
        rule: 'an enrolled device',
      });
    }
    const outcome = await this.#storage.unblockWallet({
      wristband,
      reason: request.reason,
      device: request.device ?? null,
      now: this.#clock.now(),
    });
    if (!outcome) throw new ProtocolError('not_found', `no wallet for wristband ${wristband}`);
    return outcome;
  }
}
