/**
 * The few shapes of the peer harness (/work/shared/peer-bench/bench/workload.ts) this adapter
 * needs, copied structurally: the harness lives outside this repository, so importing its types
 * would break `tsc` here. The harness hands its workload module to `createAdapter` at run time;
 * `PeerWorkload` is the part of that module the adapter uses.
 */

export type OrderEvent =
  | { readonly type: 'OrderCreated'; readonly data: { orderId: string; customerId: string } }
  | { readonly type: 'ItemAdded'; readonly data: { orderId: string; sku: string; quantity: number; price: number } }
  | { readonly type: 'OrderConfirmed'; readonly data: { orderId: string; confirmedAt: string } };

export type OrderCommand =
  | { readonly type: 'CreateOrder'; readonly data: { orderId: string; customerId: string } }
  | { readonly type: 'AddItem'; readonly data: { orderId: string; sku: string; quantity: number; price: number } }
  | { readonly type: 'ConfirmOrder'; readonly data: { orderId: string } };

export type OrderState =
  | { readonly status: 'Empty' }
  | { readonly status: 'Open'; readonly items: number; readonly total: number }
  | { readonly status: 'Confirmed'; readonly items: number; readonly total: number };

export type InventoryEvent =
  | { readonly type: 'StockReceived'; readonly data: { sku: string; quantity: number } }
  | { readonly type: 'StockReserved'; readonly data: { sku: string; orderId: string; quantity: number } };

export type InventoryCommand =
  | { readonly type: 'ReceiveStock'; readonly data: { sku: string; quantity: number } }
  | { readonly type: 'ReserveStock'; readonly data: { sku: string; orderId: string; quantity: number } };

export interface InventoryState {
  readonly received: number;
  readonly reserved: number;
}

export interface PeerWorkload {
  readonly READ_MODEL_TABLE: string;
  readonly readModelDDL: string;
  readModelSQL(event: OrderEvent): string;
  initialState(): OrderState;
  evolve(state: OrderState, event: OrderEvent): OrderState;
  decide(command: OrderCommand, state: OrderState): OrderEvent[];
  inventoryInitialState(): InventoryState;
  inventoryEvolve(state: InventoryState, event: InventoryEvent): InventoryState;
  inventoryDecide(command: InventoryCommand, state: InventoryState): InventoryEvent[];
  readonly SoldOutError: new (message?: string) => Error;
}

export interface BenchAdapter {
  readonly name: string;
  readonly version: string;
  describe(): Record<string, unknown>;
  resetDatabase(): Promise<void>;
  open(): Promise<void>;
  setupSchema(): Promise<void>;
  warmPool(connections: number): Promise<void>;
  append(streamId: string, events: OrderEvent[]): Promise<void>;
  handleOrderCommand(orderId: string, command: OrderCommand): Promise<number>;
  projectFromZero(variant: string): Promise<{ eventsHandled: number }>;
  projectionVariants(): string[];
  resetProjection(): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  startLiveProjection?(): Promise<{ stop(): Promise<void> }>;
  diagnostics?(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HotStreamAdapter {
  handleInventoryCommand(sku: string, command: InventoryCommand): Promise<void>;
  loadInventory(sku: string): Promise<InventoryState>;
  hotStreamCounters?(): Record<string, number>;
}
