/**
 * @holdfast/secret-file — a random secret kept in a mode-0600 file and
 * created once, even by several processes starting together: the processor
 * simulator's API key and the server's operator token. Node-only.
 */
export { loadOrCreateSecretFile } from './load-or-create-secret-file.js';
