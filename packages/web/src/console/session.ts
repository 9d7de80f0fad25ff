/** The signed-in operator as the console knows it: what the server said the role may do. */
import type { SessionInfo } from './types.js';

export interface Session {
  info: SessionInfo;
  /** True if the role has `permission` (the server enforces it anyway; the console hides what it would refuse). */
  may(permission: string): boolean;
}

export function sessionOf(info: SessionInfo): Session {
  return { info, may: (p) => info.permissions.includes(p) };
}
