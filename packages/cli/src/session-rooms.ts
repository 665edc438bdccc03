/** The CLI's view of group chat (XEP-0045): rooms, join, say, invite, create. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by its feature.
export interface CliRooms {}
