/**
 * @holdfast/processor-client/testing — test fixtures for processors and
 * their clients. Not for production code.
 */
export { authRequest } from './auth-request.js';
