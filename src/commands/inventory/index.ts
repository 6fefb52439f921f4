export * from './commands.js';
export type { InventoryState, Reservation, TrackedInventory } from './state.js';
export { available, isExpired } from './state.js';
export {
  INVENTORY_STREAM_PREFIX,
  inventoryDecider,
  inventoryStreamId,
  inventoryStreamId as streamId,
} from './decider.js';
