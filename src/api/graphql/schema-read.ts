/** The read half of the SDL: queries and subscriptions, answered from the read side only. */
export const readSchema = /* GraphQL */ `
"A whole number up to 2^53 - 1, sent as a JSON number (money totals, unit counts)."
scalar Long

"""
Relay page info (forward paging: first/after). Cursors are opaque: pass endCursor as after to get
the next page. startCursor and endCursor are the cursors of the first and last edge (null when empty).
"""
type PageInfo {
  hasNextPage: Boolean!
  startCursor: String
  endCursor: String
}

enum ProductStatus {
  LISTED
  DELISTED
}

type Product {
  id: ID!
  sku: String!
  name: String!
  "Integer minor units of currency (cents)."
  price: Int!
  currency: String!
  status: ProductStatus!
  delistReason: String
  listedAt: String!
  "Units of the product's SKU that can still be ordered."
  available: Long!
  "Stock of the product's SKU in detail (null before the SKU is tracked)."
  availability: Availability
  "Consistency token of the last change the read model applied to this product or its stock."
  consistencyToken: String!
}

type ProductEdge {
  "Pass as after to get the products that follow this one."
  cursor: String!
  node: Product!
}

type ProductConnection {
  edges: [ProductEdge!]!
  pageInfo: PageInfo!
}

input ProductFilter {
  status: ProductStatus
  "Case-insensitive substring of the name."
  nameContains: String
  "Inclusive bounds, in minor units."
  minPrice: Int
  maxPrice: Int
  "Only products with units available (true) or without (false)."
  inStock: Boolean
}

type Availability {
  sku: String!
  productId: ID
  received: Long!
  reserved: Long!
  sold: Long!
  "received - reserved - sold: what can still be ordered."
  available: Long!
  consistencyToken: String!
}

type FlashSaleEntry {
  sku: String!
  unitsLeft: Long!
  reserved: Long!
  sold: Long!
  received: Long!
  lastSaleAt: String
  product: Product
  consistencyToken: String!
}

enum OrderStatus {
  PENDING
  CONFIRMED
  CANCELLED
}

enum PaymentState {
  NONE
  REQUESTED
  AUTHORIZED
  FAILED
  PARTIALLY_REFUNDED
  REFUNDED
}

enum LineStockStatus {
  PENDING
  RESERVED
  COMMITTED
  RELEASED
}

type OrderLine {
  sku: String!
  quantity: Int!
  unitPrice: Int!
  lineTotal: Long!
  stockStatus: LineStockStatus!
  product: Product
}

type OrderTimelineEntry {
  "The event, e.g. OrderPlaced, StockReserved, PaymentAuthorized, OrderConfirmed."
  type: String!
  at: String!
  consistencyToken: String!
  "What the event said about the order, as a JSON object in a string."
  detail: String!
}

type Order {
  id: ID!
  customerId: ID!
  status: OrderStatus!
  paymentStatus: PaymentState!
  currency: String!
  total: Long!
  lineCount: Int!
  placedAt: String!
  confirmedAt: String
  cancelledAt: String
  cancelReason: String
  lines: [OrderLine!]!
  timeline: [OrderTimelineEntry!]!
  consistencyToken: String!
}

type OrderEdge {
  "Pass as after to get the orders that follow this one."
  cursor: String!
  node: Order!
}

type OrderConnection {
  edges: [OrderEdge!]!
  pageInfo: PageInfo!
}

type ProjectionStatus {
  name: String!
  description: String!
  "Version of the live tables (null: never started); codeVersion is this process's."
  version: Int
  codeVersion: Int!
  "running, paused, rebuilding, needs-rebuild or not-started."
  state: String!
  "Checkpoint position (-1: nothing applied yet)."
  checkpoint: String!
  head: String!
  lagEvents: Long!
  lagEventsCapped: Boolean!
  lagSeconds: Float!
  parkedEvents: Long!
  "Some process holds the runner lock (null on embedded PGlite)."
  active: Boolean
  """
  The transaction holding the event store's horizon back while this projection has events to apply
  (null: not stalled; always null on EventStoreDB and embedded PGlite).
  """
  stalledBy: HorizonHolder
}

"""
A transaction, anywhere in the PostgreSQL cluster, that holds the event store's subscription horizon
back: events committed after it began are not delivered to projections until it ends. End it with
SELECT pg_terminate_backend(pid), or ROLLBACK PREPARED 'preparedGid' in its database.
"""
type HorizonHolder {
  "Its transaction id (pg_snapshot_xmin)."
  xid: String!
  "Backend pid of the holding session (null for a prepared transaction, or when not found)."
  pid: Int
  database: String
  application: String
  "pg_stat_activity state (e.g. idle in transaction), or prepared."
  state: String
  "When the transaction began (or was prepared), ISO-8601."
  since: String
  "Age of the holding transaction."
  ageSeconds: Float
  "Gid of the prepared transaction holding it."
  preparedGid: String
  "How long the oldest committed event has waited behind it."
  waitingSeconds: Float!
}

"""
Every query takes an optional consistencyToken (from a mutation's payload): the query first waits,
up to CONSISTENCY_WAIT_MS, until the projections it reads have applied that write.
"""
type Query {
  "Listed and delisted products by name. first: 1 to 100."
  products(first: Int = 20, after: String, filter: ProductFilter, consistencyToken: String): ProductConnection!
  product(id: ID!, consistencyToken: String): Product
  availability(sku: String!, consistencyToken: String): Availability
  "SKUs of the running flash sales, fewest units left first, then by SKU. first: 1 to 100."
  flashSaleBoard(first: Int = 20, consistencyToken: String): [FlashSaleEntry!]!
  "The orders of the token's subject, newest first (requires a token); status: only orders in that status."
  myOrders(first: Int = 20, after: String, status: OrderStatus, consistencyToken: String): OrderConnection!
  "One order: its owner or an admin."
  order(id: ID!, consistencyToken: String): Order
  "Progress of every projection (admin)."
  projectionStatus: [ProjectionStatus!]!
}

"""
Over graphql-ws at /graphql. Send the token in connection_init: { "authorization": "Bearer <token>" }.
after: a consistency token to resume from; every change after it is delivered.
"""
type Subscription {
  "An order after each change of its status (its owner or an admin)."
  orderStatusChanged(orderId: ID!, after: String): Order!
  availabilityChanged(sku: String!, after: String): Availability!
}
`;
