/**
 * The built-in features, made in dependency order for the composition root (client.ts).
 * Each gets its collaborators explicitly and reports through the client's `error` event.
 * Order matters where two act on `online`: the roster comes before presence, because the
 * roster get must go out before the initial presence (RFC 6121 2.2).
 */
import type { Client, ClientOptions } from '../client.ts';
import type { ConfabError } from '../errors.ts';
import { bare, type Jid, tryJid } from '../jid.ts';
import type { Store } from '../store/types.ts';
import type { Element } from '../xml/element.ts';
import { Blocking } from './blocking/blocking.ts';
import { BuddiesOnly } from './blocking/buddies-only.ts';
import { Bookmarks } from './bookmarks/bookmarks.ts';
import { Caps } from './caps/caps.ts';
import { Carbons } from './carbons/carbons.ts';
import type { OnForwarded } from './carbons/forwarded.ts';
import type { FeatureContext } from './context.ts';
import { Disco } from './disco/disco.ts';
import { Files } from './files/files.ts';
import { Mam } from './mam/mam.ts';
import type { Messaging } from './messages/messages.ts';
import { Muc } from './muc/muc.ts';
import { Avatars } from './pep/avatar.ts';
import { Nicknames } from './pep/nick.ts';
import { Pep } from './pep/pep.ts';
import { PresenceManager } from './presence/presence.ts';
import { PrivateStorage } from './private/private.ts';
import { AccountRegistration } from './register/register.ts';
import { Roster } from './roster/roster.ts';
import { Software } from './software/software.ts';
import { VCards } from './vcard/vcard.ts';

export interface Features {
  roster: Roster;
  presence: PresenceManager;
  disco: Disco;
  caps: Caps;
  software: Software;
  pep: Pep;
  nick: Nicknames;
  avatar: Avatars;
  vcard: VCards;
  private: PrivateStorage;
  blocking: Blocking;
  buddiesOnly: BuddiesOnly;
  carbons: Carbons;
  mam: Mam;
  muc: Muc;
  bookmarks: Bookmarks;
  files: Files;
  account: AccountRegistration;
}

export interface FeatureDeps {
  client: Client;
  store: Store;
  options: ClientOptions;
  onError: (e: ConfabError) => void;
  isOnline: () => boolean;
  /** Where carbon and archive copies go (de-duplicated with the live ones there). */
  messaging: Messaging;
}

export function createFeatures({
  client,
  store,
  options,
  onError,
  isOnline,
  messaging,
}: FeatureDeps): Features {
  const roster = new Roster({ client, store, options: options.roster, onError });
  const presence = new PresenceManager({
    client,
    options: { ...options.presence, initial: options.presence?.initial ?? options.initialPresence !== false },
    onError,
    initialAfter: () => roster.requested(),
  });
  const disco = new Disco({ client });
  const caps = new Caps({ client, disco, store });
  // Our caps on every available presence we send; a changed hash re-announces it.
  presence.addDecorator((p) => {
    p.append(caps.element());
  });
  caps.on('change', () => {
    if (isOnline()) presence.resend().catch(() => {});
  });
  const subscription = (j: Jid) => roster.get(j)?.subscription;
  const software = new Software({
    client,
    disco,
    // Our idle time is presence information: only for those who may see our presence.
    mayKnowPresence: (from) => {
      const j = tryJid(from);
      if (j === undefined) return false;
      const own = client.jid;
      if (own !== undefined && bare(j) === bare(own)) return true;
      const s = subscription(j);
      return s === 'both' || s === 'from';
    },
  });
  const pep = new Pep({ client, disco });
  const priv = new PrivateStorage({ client });
  let muc: Muc | undefined;
  const buddiesOnly = new BuddiesOnly({
    storage: priv,
    client,
    isBuddy: (j) => {
      const s = subscription(j);
      if (s === 'both' || s === 'from' || s === 'to') return true;
      // A room we are in (its notices, occupants' group and private messages) is one we chose;
      // `muc` is made later, so it is looked up when a stanza arrives.
      return muc?.get(bare(j))?.state === 'joined';
    },
  });
  client.addInboundFilter(buddiesOnly.accept);

  // Carbons and the archive unwrap forwarded copies ahead of the plain message stage, so
  // a wrapper never reaches the app as a message from our own bare JID; the copies go to
  // messaging's `ingest`, which shows each message once. A received carbon passes the
  // buddies-only filter on its inner sender (the wrapper always comes from us).
  const intercept = (stage: (el: Element) => boolean | undefined) =>
    client.addInboundFilter((el) => stage(el) !== true);
  const forward: OnForwarded = (inner, meta) => {
    if (meta.source === 'carbon-received' && !buddiesOnly.accept(inner)) return;
    messaging.ingest(inner, meta);
  };
  const ownFeatures = async () => (await disco.info()).features;
  const carbons = new Carbons({
    client,
    intercept,
    onError,
    onForwarded: forward,
    serverFeatures: ownFeatures,
    options: options.carbons,
  });
  const mam = new Mam({
    client,
    store,
    intercept,
    onError,
    onForwarded: forward,
    options: options.mam,
    accountFeatures: async () => {
      const own = client.jid;
      return (await disco.info(own === undefined ? undefined : bare(own))).features;
    },
  });
  const blocking = new Blocking({ client });
  // The features below take one context: the collaborators plus everything made before them.
  const ctx: FeatureContext = {
    client,
    store,
    options,
    onError,
    isOnline,
    messaging,
    roster,
    presence,
    disco,
    caps,
    pep,
    private: priv,
    blocking,
    carbons,
    mam,
  };
  muc = new Muc(ctx, options.muc);
  return {
    carbons,
    mam,
    roster,
    presence,
    disco,
    caps,
    software,
    pep,
    nick: new Nicknames({ pep }),
    avatar: new Avatars({ pep }),
    vcard: new VCards({ client }),
    private: priv,
    blocking,
    buddiesOnly,
    muc,
    bookmarks: new Bookmarks({ ...ctx, muc }, options.bookmarks),
    files: new Files(ctx),
    account: new AccountRegistration(ctx),
  };
}
