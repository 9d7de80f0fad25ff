/**
 * The health check's write probe, the same text on every backend: rewrites
 * the newest migration's row as it is. A real committed write (a WAL frame
 * and an fsync on SQLite, a new row version on PostgreSQL) that changes no
 * data and needs no table of its own.
 */
export const PROBE_WRITE =
  'UPDATE schema_migrations SET applied_at = applied_at WHERE version = (SELECT MAX(version) FROM schema_migrations)';
