import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIMITED_STATEMENTS_KEPT, limitedStatement } from './limited-statement.js';

describe('limitedStatement', () => {
  it('writes the limit into the text, prepares each limit once, and keeps a bounded number', () => {
    const prepared: string[] = [];
    const page = limitedStatement((sql) => {
      prepared.push(sql);
      return { sql };
    }, 'SELECT * FROM ops WHERE seq > ? ORDER BY seq LIMIT ?');
    assert.deepEqual(page(50), { sql: 'SELECT * FROM ops WHERE seq > ? ORDER BY seq LIMIT 50' });
    assert.equal(page(50), page(50), 'the same statement for the same limit');
    assert.deepEqual(prepared, ['SELECT * FROM ops WHERE seq > ? ORDER BY seq LIMIT 50']);
    for (let limit = 1; limit <= 3 * LIMITED_STATEMENTS_KEPT; limit++) page(limit);
    page(50);
    assert.equal(
      prepared.at(-1),
      'SELECT * FROM ops WHERE seq > ? ORDER BY seq LIMIT 50',
      'forgotten once the cache filled',
    );
  });

  it('takes a named @limit too, and refuses a limit that is not a whole number or a text without one', () => {
    const page = limitedStatement((sql) => sql, 'SELECT 1 WHERE x = @x LIMIT @limit');
    assert.equal(page(0), 'SELECT 1 WHERE x = @x LIMIT 0');
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => page(bad), /a row limit must be a whole number of at least 0/);
    }
    assert.throws(() => limitedStatement((sql) => sql, 'SELECT 1'), /no LIMIT \? in SELECT 1/);
  });
});
