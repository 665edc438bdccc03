// A logged-in client on a memory transport with the roster and presence features attached
// the way the composition root will attach them (roster first, so its get goes out before
// the initial presence: RFC 6121 2.2). `initialPresence: false` because the presence
// feature sends the initial presence itself. The test plays the server.

import assert from 'node:assert/strict';
import { type Client, type ClientOptions, createClientOn } from '../../src/client.ts';
import {
  type PresenceDeps,
  PresenceManager,
  type PresenceOptions,
} from '../../src/features/presence/presence.ts';
import { Roster, type RosterOptions } from '../../src/features/roster/roster.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/types.ts';
import type { Element } from '../../src/xml/element.ts';
import { MemoryPlatform, type MemoryTransport, serveLogin } from './memory-transport.ts';

export const ACCOUNT = 'juliet@example.com';
export const RESOURCE = 'balcony';
export const FULL = `${ACCOUNT}/${RESOURCE}`;

/** Post-auth stream features: bind plus whatever the test names. */
export const FEATURE = {
  ver: "<ver xmlns='urn:xmpp:features:rosterver'/>",
  csi: "<csi xmlns='urn:xmpp:csi:0'/>",
  preApproval: "<sub xmlns='urn:xmpp:features:pre-approval'/>",
} as const;

export interface ImSessionOptions {
  features?: readonly string[];
  store?: Store;
  roster?: RosterOptions;
  presence?: PresenceOptions;
  presenceDeps?: Partial<PresenceDeps>;
  client?: Partial<ClientOptions>;
}

export interface ImSession {
  client: Client;
  roster: Roster;
  presence: PresenceManager;
  store: Store;
  t: MemoryTransport;
  platform: MemoryPlatform;
  errors: Error[];
  /** Wait for the client to write an iq and return it (asserting its type). */
  iq(type?: 'get' | 'set' | 'result' | 'error'): Promise<Element>;
}

/** Log in (the test still has to answer the roster get that `online` triggers). */
export async function imSession(o: ImSessionOptions = {}): Promise<ImSession> {
  const platform = new MemoryPlatform();
  const store = o.store ?? new MemoryStore();
  const errors: Error[] = [];
  const client = createClientOn(platform, {
    // A bare core: these tests play the server for the features they build themselves.
    features: false,
    jid: ACCOUNT,
    password: 'r0meo',
    resource: RESOURCE,
    reconnect: false,
    initialPresence: false,
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 100 },
    ...o.client,
  });
  client.on('error', (e) => errors.push(e));
  const roster = new Roster({ client, store, options: o.roster, onError: (e) => errors.push(e) });
  const presence = new PresenceManager({
    client,
    options: o.presence,
    onError: (e) => errors.push(e),
    initialAfter: () => roster.requested(),
    ...o.presenceDeps,
  });
  const connected = client.connect();
  const t = await platform.nextTransport();
  await serveLogin(t, ACCOUNT, {
    presence: false,
    postAuthFeatures: `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>${(o.features ?? []).join('')}</stream:features>`,
  });
  await connected;
  return {
    client,
    roster,
    presence,
    store,
    t,
    platform,
    errors,
    async iq(type) {
      const el = await t.expectElement('iq');
      if (type) assert.equal(el.attr('type'), type);
      return el;
    },
  };
}
