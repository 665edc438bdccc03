/**
 * Room bookmarks (XEP-0402, XEP-0048 fallback): placeholder wired into the composition root.
 */
import type { FeatureContext } from '../context.ts';
import type { Muc } from '../muc/muc.ts';

export class Bookmarks {
  constructor(_ctx: FeatureContext & { muc: Muc }) {}
}
