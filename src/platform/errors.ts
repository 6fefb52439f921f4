/**
 * The registry of every error code Keel emits. Codes are stable strings; messages are for people.
 * Domain errors know nothing of HTTP: the API maps `code` to GraphQL `extensions.code`.
 * Every code listed here must appear in the table of docs/reference/errors.md (a test checks it).
 */
export const ERROR_CODES = {
  // write side: concurrency and storage
  KEEL_ERR_WRONG_EXPECTED_REVISION: 'The stream is not at the revision the command expected.',
  KEEL_ERR_CONFLICT_RETRIES_EXHAUSTED: 'The command kept conflicting with concurrent writers and gave up.',
  KEEL_ERR_DUPLICATE_EVENT_ID: 'An event id was reused for different content or a different stream.',
  KEEL_ERR_STREAM_DELETED: 'The stream has been deleted.',
  KEEL_ERR_STREAM_NOT_FOUND: 'The stream does not exist.',
  KEEL_ERR_EVENTSTORE_UNAVAILABLE: 'The event store cannot be reached.',
  KEEL_ERR_APPEND_TOO_LARGE: 'Too many events or too large a payload in one append.',
  KEEL_ERR_IDEMPOTENCY_KEY_REUSED: 'The idempotency key was already used for a different request; use a new key.',
  // input validation (rejected before anything is appended)
  KEEL_ERR_VALIDATION: 'The command is malformed: a field is missing, of the wrong type or out of range.',
  KEEL_ERR_PAYLOAD_TOO_LARGE: 'The command payload exceeds the size limit.',
  // catalog
  KEEL_ERR_PRODUCT_ALREADY_LISTED: 'A product with this id is already listed.',
  KEEL_ERR_PRODUCT_NOT_FOUND: 'No product with this id has been listed.',
  KEEL_ERR_PRODUCT_DELISTED: 'The product has been delisted.',
  KEEL_ERR_SKU_TAKEN: 'The SKU already belongs to another product.',
  KEEL_ERR_UNKNOWN_SKU: 'No listed product carries this SKU.',
  KEEL_ERR_PRICE_CHANGED: 'A line\'s unit price differs from the product\'s current price; details carry the current price and currency.',
  KEEL_ERR_CURRENCY_MISMATCH: 'The order\'s currency differs from the currency its products are priced in.',
  // inventory
  KEEL_ERR_OUT_OF_STOCK: 'Not enough units are available to reserve.',
  KEEL_ERR_RESERVATION_NOT_FOUND: 'No active reservation exists for this order.',
  KEEL_ERR_RESERVATION_EXISTS: 'This order already holds a reservation for this SKU.',
  KEEL_ERR_RESERVATION_EXPIRED: 'The reservation expired before it was committed.',
  // orders
  KEEL_ERR_ORDER_ALREADY_PLACED: 'An order with this id has already been placed.',
  KEEL_ERR_ORDER_NOT_FOUND: 'No order with this id exists.',
  KEEL_ERR_ORDER_NOT_PENDING: 'The order is no longer pending.',
  KEEL_ERR_ORDER_ALREADY_CANCELLED: 'The order has already been cancelled.',
  KEEL_ERR_ORDER_TOTAL_OUT_OF_RANGE: 'The order total is zero or above the largest amount a payment accepts.',
  // payments
  KEEL_ERR_PAYMENT_ALREADY_REQUESTED: 'A payment has already been requested for this id.',
  KEEL_ERR_PAYMENT_NOT_FOUND: 'No payment with this id exists.',
  KEEL_ERR_PAYMENT_INVALID_STATE: 'The payment is not in a state that allows this operation.',
  KEEL_ERR_PAYMENT_REFUND_EXCEEDS_AUTHORIZED: 'The refund exceeds the authorized amount not yet refunded.',
  KEEL_ERR_PAYMENT_PROVIDER_UNAVAILABLE: 'The payment provider could not be reached, timed out or gave no valid answer; the call is retried with the same idempotency key.',
  // projections (read side)
  KEEL_ERR_PROJECTION_LAG_TIMEOUT: 'A projection did not reach the requested position in time.',
  KEEL_ERR_PROJECTION_VERIFY_FAILED: 'The rebuilt projection failed verification; nothing was swapped.',
  KEEL_ERR_PROJECTION_REBUILD_RUNNING: 'Another rebuild of this projection is in progress.',
  KEEL_ERR_PROJECTION_REBUILD_CONFLICT: 'The projection changed generation while it was being rebuilt; nothing was swapped.',
  KEEL_ERR_PARKED_EVENT_NOT_FOUND: 'No parked event with this id waits in this projection.',
  // replay debugging (`keel events`, `keel replay`, `keel explain`, the inspector): nothing is written
  KEEL_ERR_REPLAY_UNKNOWN_STREAM_KIND: 'The stream id names no aggregate Keel knows (product-, inventory-, order-, payment-).',
  KEEL_ERR_REPLAY_BAD_REVISION: 'The revision is not a whole number within the stream.',
  KEEL_ERR_REPLAY_BAD_POSITION: 'The position is not a whole number of the log.',
  KEEL_ERR_REPLAY_BAD_TIME: 'The time is not an ISO-8601 date-time, or it lies before the stream began.',
  KEEL_ERR_REPLAY_BAD_CONDITION: 'The condition is not `<path> <op> <value>` with a JSON value.',
  KEEL_ERR_REPLAY_BAD_COMMAND: 'The command is not JSON, or not a command of this stream\'s aggregate.',
  // platform
  KEEL_ERR_CONFIG: 'A configuration variable has an invalid value.',
  KEEL_ERR_DATA_DIR_LOCKED: 'The embedded database directory is in use by another Keel process.',
  // API (GraphQL `extensions.code`; the two auth codes use the names GraphQL clients expect)
  UNAUTHENTICATED: 'The bearer token is missing, malformed, expired or not signed with the server secret.',
  FORBIDDEN: 'The token is valid but its roles or subject do not allow this operation.',
  KEEL_ERR_GRAPHQL_VALIDATION: 'The GraphQL request is malformed (bad JSON or syntax) or does not match the schema.',
  KEEL_ERR_QUERY_TOO_DEEP: 'The operation nests selections deeper than QUERY_MAX_DEPTH.',
  KEEL_ERR_QUERY_TOO_COSTLY: 'The estimated cost of the operation exceeds QUERY_MAX_COST.',
  KEEL_ERR_BODY_TOO_LARGE: 'The HTTP request body exceeds BODY_LIMIT_BYTES.',
  KEEL_ERR_TOO_MANY_SUBSCRIPTIONS: 'The WebSocket already holds WS_MAX_SUBSCRIPTIONS_PER_SOCKET subscriptions.',
  KEEL_ERR_TOO_MANY_SOCKETS: 'The client already holds WS_MAX_SOCKETS_PER_CLIENT WebSockets on this server.',
  KEEL_ERR_RATE_LIMITED: 'The client sent more than RATE_LIMIT_MAX requests in one RATE_LIMIT_WINDOW_MS window.',
  KEEL_ERR_OVERLOADED: 'The API process is overloaded (OVERLOAD_* thresholds) and refused the request before running it; retry after Retry-After seconds.',
  KEEL_ERR_READ_SIDE_UNAVAILABLE: 'This process cannot answer queries: no read side is wired into it.',
  KEEL_ERR_DATABASE_UNAVAILABLE: 'The database of the read models cannot be reached; retry the query.',
  KEEL_ERR_INTERNAL: 'An unexpected server error; the server log has the details (masked in production).',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of every error Keel raises on purpose. `details` must be JSON-serialisable. */
export class KeelError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? ERROR_CODES[code]);
    this.name = 'KeelError';
    this.code = code;
    this.details = details;
  }
}

/** A rule of the domain refused the command (out of stock, order not pending, …). */
export class DomainError extends KeelError {
  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
    this.name = 'DomainError';
  }
}

/** The input was rejected before anything was appended; `field` names the offending path. */
export class ValidationError extends KeelError {
  constructor(
    readonly field: string,
    message: string,
    code: ErrorCode = 'KEEL_ERR_VALIDATION',
  ) {
    super(code, `${field}: ${message}`, { field });
    this.name = 'ValidationError';
  }
}

export const isKeelError = (e: unknown): e is KeelError => e instanceof KeelError;
