// A client already logged in on an in-memory transport, for feature dialogue tests: the
// test plays the server (recv) and asserts what the client writes (expectElement).

import assert from 'node:assert/strict';
import { type Client, type ClientOptions, createClientOn } from '../../src/client.ts';
import type { Element } from '../../src/xml/element.ts';
import { MemoryPlatform, type MemoryTransport, serveLogin } from './memory-transport.ts';

export const ACCOUNT = 'juliet@capulet.lit';
export const RESOURCE = 'balcony';
export const FULL = `${ACCOUNT}/${RESOURCE}`;

export interface Online {
  client: Client;
  t: MemoryTransport;
  /** The next iq the client sends, asserting its type and payload namespace. */
  nextIq(type: 'get' | 'set' | 'result' | 'error', payloadNs?: string): Promise<Element>;
}

export async function online(
  o: Partial<ClientOptions> = {},
  setup?: (client: Client) => void,
): Promise<Online> {
  const platform = new MemoryPlatform();
  const client = createClientOn(platform, {
    // A bare core: these tests play the server for the features they build themselves.
    features: false,
    jid: ACCOUNT,
    password: 'secret',
    resource: RESOURCE,
    reconnect: false,
    initialPresence: false,
    keepalive: { whitespaceInterval: 0, pingInterval: 0 },
    timeouts: { disconnect: 50, iq: 2_000 },
    ...o,
  });
  setup?.(client);
  const connected = client.connect();
  const t = await platform.nextTransport();
  await serveLogin(t, ACCOUNT, { presence: o.initialPresence === true });
  await connected;
  return {
    client,
    t,
    async nextIq(type, payloadNs) {
      const iq = await t.expectElement('iq');
      assert.equal(iq.attr('type'), type, `expected iq ${type}`);
      if (payloadNs !== undefined) assert.equal(iq.elements()[0]?.xmlns, payloadNs);
      return iq;
    },
  };
}
