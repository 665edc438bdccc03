/** Commands of the command table (table.ts) for this area, in the order help lists them. */
import type { CommandSpec } from './spec.ts';

export const ACCOUNT_COMMANDS: readonly CommandSpec[] = [];
