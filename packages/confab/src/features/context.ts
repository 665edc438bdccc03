/**
 * What a feature built after the core ones gets: the composition root's collaborators plus
 * every feature made before it (features/index.ts builds them in dependency order). One
 * argument, so adding a feature never changes another's constructor.
 */
import type { Blocking } from './blocking/blocking.ts';
import type { Caps } from './caps/caps.ts';
import type { Carbons } from './carbons/carbons.ts';
import type { Disco } from './disco/disco.ts';
import type { FeatureDeps } from './index.ts';
import type { Mam } from './mam/mam.ts';
import type { Pep } from './pep/pep.ts';
import type { PresenceManager } from './presence/presence.ts';
import type { PrivateStorage } from './private/private.ts';
import type { Roster } from './roster/roster.ts';

export interface FeatureContext extends FeatureDeps {
  roster: Roster;
  presence: PresenceManager;
  disco: Disco;
  caps: Caps;
  pep: Pep;
  private: PrivateStorage;
  blocking: Blocking;
  carbons: Carbons;
  mam: Mam;
}
