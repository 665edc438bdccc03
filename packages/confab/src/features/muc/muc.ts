/**
 * Multi-User Chat (XEP-0045): placeholder wired into the composition root; implemented in
 * this directory.
 */
import type { FeatureContext } from '../context.ts';

export class Muc {
  constructor(_ctx: FeatureContext) {}
}
