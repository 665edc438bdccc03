/**
 * Private XML storage: XEP-0049 "Private XML Storage" v1.2. Any namespace the app
 * chooses, stored on the account by its server (never visible to others).
 *
 * The requests go to our own account (no `to`), so the core's responder rules
 * accept a reply only from our server, our bare JID, or with no `from` (a
 * "result" forged by anyone else is ignored).
 *
 * XEP-0049 says namespaces starting `jabber:` or `http://jabber.org/` and
 * `vcard-temp` are reserved: servers may refuse them, so we refuse them first with
 * a clear error instead of an opaque `not-acceptable`.
 */
import { ConfabError } from '../../errors.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import { type Element, xml } from '../../xml/element.ts';
import type { FeatureClient } from '../disco/disco.ts';
import { buildPrivate, NS_PRIVATE, type PrivateKey, parsePrivate } from './codec.ts';

export interface PrivateOptions {
  client: FeatureClient;
}

/**
 * @example
 * await storage.set(xml('prefs', { xmlns: 'urn:example:prefs' }, xml('theme', null, 'dark')));
 * const prefs = await storage.get('prefs', 'urn:example:prefs'); // the element, or undefined
 */
export class PrivateStorage {
  static readonly feature = 'private';
  readonly #client: FeatureClient;

  constructor(o: PrivateOptions) {
    this.#client = o.client;
  }

  /** The element stored under `<name xmlns=xmlns/>`, or undefined when nothing is stored. */
  async get(name: string, xmlns: string, options?: IqRequestOptions): Promise<Element | undefined> {
    const key = checkKey({ name, xmlns });
    const r = await this.#client.iq(
      { type: 'get', payload: buildPrivate(xml(key.name, { xmlns: key.xmlns })) },
      options,
    );
    const q = r.getChild('query', NS_PRIVATE);
    return q ? parsePrivate(q, key) : undefined;
  }

  /** Store `element` (replacing what was stored under its name and namespace). */
  async set(element: Element, options?: IqRequestOptions): Promise<void> {
    checkKey(element);
    await this.#client.iq({ type: 'set', payload: buildPrivate(element) }, options);
  }

  /** Remove what is stored under the key (stores the empty element, which reads back as nothing). */
  async remove(name: string, xmlns: string, options?: IqRequestOptions): Promise<void> {
    await this.set(xml(name, { xmlns }), options);
  }
}

function checkKey(k: PrivateKey): PrivateKey {
  if (!k.xmlns || !k.name)
    throw new ConfabError('ERR_BAD_INPUT', 'Private storage needs an element with a namespace');
  if (k.xmlns.startsWith('jabber:') || k.xmlns.startsWith('http://jabber.org/') || k.xmlns === 'vcard-temp') {
    throw new ConfabError('ERR_BAD_INPUT', `The namespace ${k.xmlns} is reserved (XEP-0049 3)`);
  }
  return k;
}
