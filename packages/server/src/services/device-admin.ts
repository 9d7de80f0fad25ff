/**
 * The operator's view of the fleet: every device's status, one device's
 * status, and revoking a device. Inputs arrive validated (the HTTP layer
 * checks ids and bodies); an unknown device is ProtocolError('not_found').
 */
import type { Clock } from '@holdfast/domain';
import { type DeviceStatus, ProtocolError } from '@holdfast/protocol';
import type { Storage } from '../storage/storage.js';

export class DeviceAdmin {
  readonly #storage: Storage;
  readonly #clock: Clock;

  constructor(storage: Storage, clock: Clock) {
    this.#storage = storage;
    this.#clock = clock;
  }

  /** Every enrolled device's status, revoked ones included. */
  list(): Promise<DeviceStatus[]> {
    return this.#storage.listDeviceStatuses();
  }

  /** One device's status; not_found for an unknown id. */
  async status(id: string): Promise<DeviceStatus> {
    const status = await this.#storage.deviceStatus(id);
    if (!status) throw new ProtocolError('not_found', `no device ${id}`);
    return status;
  }

  /**
   * Revokes a device now, for `reason`, and answers its status (null only
   * if it vanished in between); not_found for an unknown id.
   */
  async revoke(id: string, reason: string): Promise<DeviceStatus | null> {
    const device = await this.#storage.revokeDevice(id, reason, this.#clock.now());
    if (!device) throw new ProtocolError('not_found', `no device ${id}`);
    return this.#storage.deviceStatus(id);
  }
}
