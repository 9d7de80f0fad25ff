/**
 * HTTPS for the server: the certificate and key files, read and checked
 * (a pair that does not match, or a file that is not PEM, fails with one
 * line naming the file), and reloaded without a restart: the listening
 * server's secure context is replaced (`setSecureContext`), so connections
 * open keep going and new ones get the new certificate.
 */
import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  /** PEM certificate chain (leaf first). */
  certFile: string;
  /** PEM private key of the certificate. */
  keyFile: string;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** The TLS files cannot be used: one line naming the file(s) and the cause. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}

/** Reads `files` and checks that they make a secure context; throws TlsConfigError. */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new TlsConfigError(`cannot read TLS ${what} ${path}: ${e.code ?? e.message}`);
    }
  };
  const material = { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
  try {
    createSecureContext(material);
  } catch (error) {
    throw new TlsConfigError(
      `TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used: ${(error as Error).message}`,
    );
  }
  return material;
}

/**
 * Re-reads `files` and gives `server` the new certificate for new
 * connections. On a bad file it throws TlsConfigError and the server keeps
 * the certificate it had.
 */
export function reloadTls(server: HttpsServer, files: TlsFiles): void {
  server.setSecureContext(readTlsFiles(files));
}
