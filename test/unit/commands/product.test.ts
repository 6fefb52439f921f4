import { describe, it } from 'vitest';
import { productDecider } from '../../../src/commands/product/index.js';
import type { ProductListed } from '../../../src/events/index.js';
import { spec } from '../../support/decider-spec.js';

const given = spec(productDecider).given;

const listed: ProductListed = {
  type: 'ProductListed',
  data: { productId: 'p-1', sku: 'TSHIRT-M', name: 'T-shirt', price: 1999, currency: 'EUR' },
};
const delisted = { type: 'ProductDelisted', data: { productId: 'p-1' } } as const;

describe('product decider', () => {
  describe('ListProduct', () => {
    const list = { type: 'ListProduct', data: listed.data } as const;

    it('lists a new product', () => {
      given([]).when(list).then([listed]);
    });
    it('refuses a product that is already listed', () => {
      given([listed]).when(list).thenThrows('KEEL_ERR_PRODUCT_ALREADY_LISTED', { productId: 'p-1' });
    });
    it('refuses to list a delisted product again', () => {
      given([listed, delisted]).when(list).thenThrows('KEEL_ERR_PRODUCT_DELISTED');
    });
  });

  describe('ChangePrice', () => {
    const change = (price: number) => ({ type: 'ChangePrice', data: { productId: 'p-1', price } }) as const;

    it('records the new price and the previous one', () => {
      given([listed])
        .when(change(2499))
        .then([{ type: 'ProductPriceChanged', data: { productId: 'p-1', price: 2499, previousPrice: 1999 } }]);
    });
    it('takes the previous price from the last change', () => {
      given([listed, { type: 'ProductPriceChanged', data: { productId: 'p-1', price: 2499, previousPrice: 1999 } }])
        .when(change(999))
        .then([{ type: 'ProductPriceChanged', data: { productId: 'p-1', price: 999, previousPrice: 2499 } }]);
    });
    it('records nothing when the price is unchanged', () => {
      given([listed]).when(change(1999)).then([]);
    });
    it('refuses an unknown product', () => {
      given([]).when(change(2499)).thenThrows('KEEL_ERR_PRODUCT_NOT_FOUND');
    });
    it('refuses a delisted product', () => {
      given([listed, delisted]).when(change(2499)).thenThrows('KEEL_ERR_PRODUCT_DELISTED');
    });
  });

  describe('DelistProduct', () => {
    it('delists with a reason', () => {
      given([listed])
        .when({ type: 'DelistProduct', data: { productId: 'p-1', reason: 'discontinued' } })
        .then([{ type: 'ProductDelisted', data: { productId: 'p-1', reason: 'discontinued' } }]);
    });
    it('delists without a reason (no reason key at all)', () => {
      given([listed]).when({ type: 'DelistProduct', data: { productId: 'p-1' } }).then([delisted]);
    });
    it('refuses an unknown product', () => {
      given([]).when({ type: 'DelistProduct', data: { productId: 'p-1' } }).thenThrows('KEEL_ERR_PRODUCT_NOT_FOUND');
    });
    it('refuses a product already delisted', () => {
      given([listed, delisted])
        .when({ type: 'DelistProduct', data: { productId: 'p-1' } })
        .thenThrows('KEEL_ERR_PRODUCT_DELISTED');
    });
  });
});
