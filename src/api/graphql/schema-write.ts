/** The write half of the SDL: mutations, each one command through src/commands/front-door.ts. */
export const writeSchema = /* GraphQL */ `
"""
What every mutation returns: where its events went. consistencyToken makes a later query wait
until the projections have applied this write. duplicate is true when the idempotencyKey had already
been used for this mutation by this client with the same input: nothing was written and the payload
answers with what was stored then. The same key with a different input is refused
(KEEL_ERR_IDEMPOTENCY_KEY_REUSED).
"""
interface MutationResult {
  streamId: String!
  "Revision of the command's last event in its stream (a bigint, as a decimal string)."
  revision: String!
  "Global position of the append (a bigint, as a decimal string)."
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  "Types of the events the command appended (or had appended, for a duplicate)."
  eventTypes: [String!]!
}

input ListProductInput {
  productId: ID!
  sku: String!
  name: String!
  "Integer minor units (cents)."
  price: Int!
  "ISO-4217, e.g. EUR."
  currency: String!
  idempotencyKey: String
}

type ListProductPayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  productId: ID!
  sku: String!
}

input ChangePriceInput {
  productId: ID!
  price: Int!
  idempotencyKey: String
}

type ChangePricePayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  productId: ID!
  price: Int!
}

input DelistProductInput {
  productId: ID!
  reason: String
  idempotencyKey: String
}

type DelistProductPayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  productId: ID!
}

input ReceiveStockInput {
  sku: String!
  quantity: Int!
  idempotencyKey: String
}

type ReceiveStockPayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  sku: String!
  quantity: Int!
}

input OrderLineInput {
  sku: String!
  quantity: Int!
  """
  Optional: the unit price the customer saw, integer minor units. The order is priced from the
  catalog; a price given here that is not the current one refuses the order with
  KEEL_ERR_PRICE_CHANGED, whose extensions carry the current prices.
  """
  unitPrice: Int
}

"""
The order id is the server's: derived from the customer and the idempotencyKey (a retried checkout
lands on the same order), random without a key. Read it from the payload.
"""
input PlaceOrderInput {
  lines: [OrderLineInput!]!
  "Optional: the currency the customer saw (ISO-4217); one that is not the catalog's refuses the order (KEEL_ERR_CURRENCY_MISMATCH)."
  currency: String
  idempotencyKey: String
}

type PlaceOrderPayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  orderId: ID!
  customerId: ID!
  total: Long!
  currency: String!
  status: OrderStatus!
}

input CancelOrderInput {
  orderId: ID!
  reason: String!
  idempotencyKey: String
}

type CancelOrderPayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  orderId: ID!
  status: OrderStatus!
}

enum PaymentOutcome {
  AUTHORIZED
  DECLINED
}

input RecordPaymentOutcomeInput {
  paymentId: ID!
  outcome: PaymentOutcome!
  "Required when outcome is AUTHORIZED."
  authorizationCode: String
  "Required when outcome is DECLINED."
  reason: String
  idempotencyKey: String
}

enum PaymentStatus {
  AUTHORIZED
  FAILED
}

type RecordPaymentOutcomePayload implements MutationResult {
  streamId: String!
  revision: String!
  position: String!
  consistencyToken: String!
  duplicate: Boolean!
  eventTypes: [String!]!
  paymentId: ID!
  status: PaymentStatus!
}

type Mutation {
  "Admin."
  listProduct(input: ListProductInput!): ListProductPayload!
  "Admin."
  changePrice(input: ChangePriceInput!): ChangePricePayload!
  "Admin."
  delistProduct(input: DelistProductInput!): DelistProductPayload!
  "Admin."
  receiveStock(input: ReceiveStockInput!): ReceiveStockPayload!
  "Customer: checkout. The order's customer is the token's subject."
  placeOrder(input: PlaceOrderInput!): PlaceOrderPayload!
  "The order's customer, or an admin."
  cancelOrder(input: CancelOrderInput!): CancelOrderPayload!
  "The payment provider's callback (role payment-provider)."
  recordPaymentOutcome(input: RecordPaymentOutcomeInput!): RecordPaymentOutcomePayload!
}
`;
