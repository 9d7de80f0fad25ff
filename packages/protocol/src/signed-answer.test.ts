import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerProblem, signAnswer } from './signed-answer.js';
import { generateDeviceKeys, importPrivateKey } from './signing.js';

const server = generateDeviceKeys();
const other = generateDeviceKeys();
const key = { id: 'k1', privateKey: importPrivateKey(server.privateKey) };
const REQUEST = 'R'.repeat(86);

describe('answerProblem (pinned keys imported once)', () => {
  it('verifies every answer against the pinned key, however often it is asked', () => {
    for (let i = 0; i < 3; i++) {
      const answer = signAnswer('feed', REQUEST, { items: [], serverTime: i }, key);
      assert.equal(answerProblem('feed', REQUEST, answer, { k1: server.publicKey }), null);
    }
  });

  it('refuses an answer signed by another key under the same id once the pinned one was used', () => {
    const good = signAnswer('batches', REQUEST, { results: [] }, key);
    assert.equal(answerProblem('batches', REQUEST, good, { k1: server.publicKey }), null);
    const forged = signAnswer(
      'batches',
      REQUEST,
      { results: [] },
      {
        id: 'k1',
        privateKey: importPrivateKey(other.privateKey),
      },
    );
    assert.equal(
      answerProblem('batches', REQUEST, forged, { k1: server.publicKey }),
      'the answer signature does not verify',
    );
    // The same pinned text now names the other key: it verifies with that one only.
    assert.equal(answerProblem('batches', REQUEST, forged, { k1: other.publicKey }), null);
  });

  it('reports a pinned key that cannot be imported on every answer, never keeping it', () => {
    const answer = signAnswer('feed', REQUEST, { items: [] }, key);
    const broken = { k1: 'A'.repeat(42) };
    for (let i = 0; i < 2; i++) {
      assert.match(answerProblem('feed', REQUEST, answer, broken) ?? '', /^the pinned key k1 cannot verify: /);
    }
  });
});
