/**
 * The ceiling: a bare fastify + mercurius server (mercurius' defaults, no logger, no plugins) whose
 * `product(id)` returns a constant object of the shape Keel's returns, for the same query text.
 * What Keel adds on top (auth, rate limit, cost rule, read side, cache, error formatting) is the
 * difference between this row and Keel's. Run as its own process by ./processes.ts (PORT set).
 */
import { fastify } from 'fastify';
import mercurius from 'mercurius';

const schema = /* GraphQL */ `
  type Availability {
    sku: String!
    received: Int!
    reserved: Int!
    sold: Int!
    available: Int!
  }
  type Product {
    id: ID!
    sku: String!
    name: String!
    price: Int!
    currency: String!
    status: String!
    available: Int!
    availability: Availability
  }
  type Query {
    product(id: ID!, consistencyToken: String): Product
  }
`;

const availability = { sku: 'SKU-0', received: 10_000, reserved: 0, sold: 0, available: 10_000 };

const resolvers = {
  Query: {
    product: (_root: unknown, args: { readonly id: string }) => ({
      id: args.id,
      sku: 'SKU-0',
      name: 'Bench product 0',
      price: 1000,
      currency: 'EUR',
      status: 'LISTED',
      available: 10_000,
      availability,
    }),
  },
};

const app = fastify({ logger: false });
await app.register(mercurius, { schema, resolvers, path: '/graphql' });
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
const stop = (): void => {
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
