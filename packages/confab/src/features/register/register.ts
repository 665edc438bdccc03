/**
 * In-band registration (XEP-0077) for a logged-in account: placeholder wired into the
 * composition root.
 */
import type { FeatureContext } from '../context.ts';

export class AccountRegistration {
  constructor(_ctx: FeatureContext) {}
}
