/** Persistence: the Store interface, its record layout, the in-memory store and helpers. */
export { loadAccountFacts, saveAccountFacts } from './account.ts';
export { xmlCodec } from './codec.ts';
export { MemoryStore, type MemoryStoreOptions } from './memory.ts';
export { scopeStore } from './scope.ts';
export type {
  AccountFacts,
  ElementCodec,
  Json,
  ListItem,
  OutboxRecord,
  SmStateRecord,
  SmUnackedRecord,
  Store,
  StoreOp,
} from './types.ts';
