import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { searchItems } from './search-items.js';

const ITEMS = [
  { sku: 'SKU-0357', name: 'Shelf item 0357', price: 457 },
  { sku: 'LATTE-OAT', name: 'Oat milk latte', price: 430 },
  { sku: 'CREME-BRULEE', name: 'Crème brûlée', price: 520 },
  { sku: 'LATTE', name: 'Latte', price: 390 },
  { sku: 'SKU-03570', name: 'Shelf item 3570', price: 100 },
];
const skus = (query: string) => searchItems(ITEMS, query).map((i) => i.sku);

describe('searchItems', () => {
  it('finds nothing for an empty or blank query', () => {
    assert.deepEqual(skus(''), []);
    assert.deepEqual(skus('   '), []);
  });

  it('puts an exact SKU first, then what starts with the query, then the rest in list order', () => {
    assert.deepEqual(skus('latte'), ['LATTE', 'LATTE-OAT']);
    assert.deepEqual(skus('sku-0357'), ['SKU-0357', 'SKU-03570']);
    assert.deepEqual(skus('sku-03570'), ['SKU-03570']);
  });

  it('ignores case and accents, in the query and in the names', () => {
    assert.deepEqual(skus('CREME BRULEE'), ['CREME-BRULEE']);
    assert.deepEqual(skus('crème'), ['CREME-BRULEE']);
    assert.deepEqual(skus('brûlée'), ['CREME-BRULEE']);
  });

  it('needs every word, each in the name or the SKU', () => {
    assert.deepEqual(skus('oat latte'), ['LATTE-OAT']);
    assert.deepEqual(skus('milk oat-x'), []);
    assert.deepEqual(skus('shelf 3570'), ['SKU-03570']);
  });

  it('takes regular-expression characters as text', () => {
    assert.deepEqual(skus('.*'), []);
    assert.deepEqual(skus('('), []);
  });
});
