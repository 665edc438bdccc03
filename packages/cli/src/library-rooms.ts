/** Adapter from the library to the CLI's view of group chat (XEP-0045): rooms, join, say, invite, create. */
import type { Client } from 'confab';
import type { CliRooms } from './session-rooms.ts';

export function roomsOf(_client: Client, _domain: string): CliRooms {
  return {};
}
