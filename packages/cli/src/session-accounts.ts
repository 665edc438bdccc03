/** The CLI's view of the logged-in account's registration (XEP-0077): passwd, unregister. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by its feature.
export interface CliRegistration {}
