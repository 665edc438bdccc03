/** The CLI's view of files: HTTP upload (XEP-0363), out-of-band offers (XEP-0066), downloads. */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by its feature.
export interface CliFiles {}
