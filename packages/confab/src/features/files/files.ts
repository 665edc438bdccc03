/**
 * File transfer (XEP-0066, XEP-0363): placeholder wired into the composition root.
 */
import type { FeatureContext } from '../context.ts';

export class Files {
  constructor(_ctx: FeatureContext) {}
}
