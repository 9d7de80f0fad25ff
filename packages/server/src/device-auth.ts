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
 *
 * After a device rotated its key (docs/security.md, "Key lifecycle"), a
 * request its current key does not verify is tried with its previous keys
 * still inside their grace period (`retired_at` in the future): a batch
 * signed before the rotation and re-sent, or a terminal that lost the
 * rotation's answer, is still the device's word until then.
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

  readonly #now: () => number;

  constructor(storage: Storage, now: () => number = Date.now) {
    this.#storage = storage;
    this.#now = now;
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
    let proof = verify(device ? this.#key(device.publicKey) : this.#decoy);
    if (device && proof === false) proof = await this.#previousKeyProof(device, verify);
    if (!device || proof === false) throw notSignedBy(id);
    if (device.revokedAt !== null) {
      throw new ProtocolError('device_revoked', `device ${id} was revoked: ${device.revokeReason ?? ''}`, {
        field: 'device',
      });
    }
    return { device, proof };
  }

  /**
   * What `verify` made of the signature with one of the device's previous
   * keys still in their grace period, newest first; false if none verifies.
   */
  async #previousKeyProof<P>(device: DeviceRecord, verify: (key: KeyObject) => P | false): Promise<P | false> {
    const now = this.#now();
    const keys = await this.#storage.listDeviceKeys(device.id);
    for (const k of keys.reverse()) {
      // Newest first; the current key was tried already, and a retired one is no key of the device.
      if (k.publicKey === device.publicKey || k.retiredAt === null || k.retiredAt <= now) continue;
      const proof = verify(this.#key(k.publicKey));
      if (proof !== false) return proof;
    }
    return false;
  }

  /** A public key, imported once and cached. */
  #key(publicKey: string): KeyObject {
    let key = this.#keys.get(publicKey);
    if (!key) {
      key = importPublicKey(publicKey);
      if (this.#keys.size >= 10_000) this.#keys.clear();
      this.#keys.set(publicKey, key);
    }
    return key;
  }
}
