/** The catalog decider: stream `product-<productId>`. */
import type { ProductDelisted, ProductEvent, ProductListed, ProductPriceChanged } from '../../events/index.js';
import { DomainError } from '../../platform/errors.js';
import type { Decider } from '../decider.js';
import { unreachable } from '../decider.js';
import type { ChangePrice, DelistProduct, ListProduct, ProductCommand } from './commands.js';
import type { ProductState } from './state.js';

export const PRODUCT_STREAM_PREFIX = 'product-';
export const productStreamId = (productId: string): string => `${PRODUCT_STREAM_PREFIX}${productId}`;

export const initialState = (): ProductState => ({ status: 'unlisted' });

const listed = (state: ProductState, productId: string) => {
  if (state.status === 'unlisted') {
    throw new DomainError('KEEL_ERR_PRODUCT_NOT_FOUND', undefined, { productId });
  }
  if (state.status === 'delisted') {
    throw new DomainError('KEEL_ERR_PRODUCT_DELISTED', undefined, { productId });
  }
  return state;
};

export const listProduct = ({ data }: ListProduct, state: ProductState): ProductListed[] => {
  if (state.status === 'listed') {
    throw new DomainError('KEEL_ERR_PRODUCT_ALREADY_LISTED', undefined, { productId: data.productId });
  }
  if (state.status === 'delisted') {
    throw new DomainError('KEEL_ERR_PRODUCT_DELISTED', undefined, { productId: data.productId });
  }
  const { productId, sku, name, price, currency } = data;
  return [{ type: 'ProductListed', data: { productId, sku, name, price, currency } }];
};

/** Setting the price it already has is not a change: nothing is recorded. */
export const changePrice = ({ data }: ChangePrice, state: ProductState): ProductPriceChanged[] => {
  const product = listed(state, data.productId);
  if (product.price === data.price) return [];
  return [
    {
      type: 'ProductPriceChanged',
      data: { productId: data.productId, price: data.price, previousPrice: product.price },
    },
  ];
};

export const delistProduct = ({ data }: DelistProduct, state: ProductState): ProductDelisted[] => {
  listed(state, data.productId);
  const reason = data.reason === undefined ? {} : { reason: data.reason };
  return [{ type: 'ProductDelisted', data: { productId: data.productId, ...reason } }];
};

export const decide = (command: ProductCommand, state: ProductState): ProductEvent[] => {
  switch (command.type) {
    case 'ListProduct':
      return listProduct(command, state);
    case 'ChangePrice':
      return changePrice(command, state);
    case 'DelistProduct':
      return delistProduct(command, state);
    default:
      return unreachable(command);
  }
};

export const evolve = (state: ProductState, event: ProductEvent): ProductState => {
  switch (event.type) {
    case 'ProductListed':
      return { status: 'listed', ...event.data };
    case 'ProductPriceChanged':
      return state.status === 'unlisted' ? state : { ...state, price: event.data.price };
    case 'ProductDelisted': {
      if (state.status === 'unlisted') return state;
      const { productId, sku, name, price, currency } = state;
      const reason = event.data.reason === undefined ? {} : { reason: event.data.reason };
      return { status: 'delisted', productId, sku, name, price, currency, ...reason };
    }
    default:
      return unreachable(event);
  }
};

export const productDecider: Decider<ProductCommand, ProductEvent, ProductState> = {
  initialState,
  evolve,
  decide,
};
