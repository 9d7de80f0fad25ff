/**
 * Who signed a terminal's request: the one gate every signed terminal
 * request (batch, status query, policy, feed, online authorization) passes.
 *
 * An unauthenticated caller must not learn which device ids exist or were
 * revoked (issue 15 #8). So a request naming an unknown device, or whose
 * signature does not verify with the named device's key, gets ONE answer,
 * `401 unknown_device` with the same message shape, and costs the same one
 * signature check (an unknown id is checked against a decoy key). Only a
 * request validly signed by a revoked device learns that it was revoked, and
 * why.
 */
import type { KeyObject } from 'node:crypto';
import { generateDeviceKeys, importPublicKey, ProtocolError } from '@holdfast/protocol';
import type { DeviceRecord } from './model/device.js';
import type { Storage } from './storage/storage.js';

/** The one answer to a request no enrolled device signed. */
export function notSignedBy(id: string): ProtocolError {
  return new ProtocolError(
    'unknown_device',
    `no device enrolled as ${id} signed this request (the device is not enrolled, or the signature does not verify)`,
    { field: 'sig', rule: "Ed25519 signature with the enrolled device's key" },
  );
}

export class DeviceAuthenticator {
  readonly #storage: Storage;
  readonly #keys = new Map<string, KeyObject>();
  /** Checked when the id is unknown, so that every refusal costs one verification. */
  readonly #decoy = importPublicKey(generateDeviceKeys().publicKey);

  constructor(storage: Storage) {
    this.#storage = storage;
  }

  /**
   * The device `id` and what `verify` made of the signature with its key.
   * `verify` answers false when the signature does not verify. Throws
   * notSignedBy(id) for an unknown id or a signature that does not verify,
   * and device_revoked (with the operator's reason) only to a request the
   * revoked device validly signed.
   */
  async signedBy<P>(id: string, verify: (key: KeyObject) => P | false): Promise<{ device: DeviceRecord; proof: P }> {
    const device = await this.#storage.getDevice(id);
    const proof = verify(device ? this.#key(device) : this.#decoy);
    if (!device || proof === false) throw notSignedBy(id);
    if (device.revokedAt !== null) {
      throw new ProtocolError('device_revoked', `device ${id} was revoked: ${device.revokeReason ?? ''}`, {
        field: 'device',
      });
    }
    return { device, proof };
  }

  /** The device's public key, imported once and cached. */
  #key(device: DeviceRecord): KeyObject {
    let key = this.#keys.get(device.publicKey);
    if (!key) {
      key = importPublicKey(device.publicKey);
      if (this.#keys.size >= 10_000) this.#keys.clear();
      this.#keys.set(device.publicKey, key);
    }
    return key;
  }
}
