/**
 * vCards: XEP-0054 "vcard-temp" v1.3.0. Get anyone's (a bare JID; the server
 * answers for the account), set our own (no `to`: XEP-0054 3.2, only the owner may).
 *
 * Trust: a get for someone else accepts the answer only from that JID (core iq
 * responder rules); ours (no `to`) only from our server or account.
 */
import { ConfabError, StanzaError } from '../../errors.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import { fromBase64 } from '../../util/base64.ts';
import type { FeatureClient } from '../disco/disco.ts';
import { buildVCard, NS_VCARD, parseVCard, type VCard } from './codec.ts';

export interface VCardsOptions {
  client: FeatureClient;
}

/**
 * @example
 * await vcards.set({ fullName: 'Juliet Capulet', nickname: 'jc' });
 * const romeo = await vcards.get('romeo@montague.lit'); // undefined when he has none
 */
export class VCards {
  static readonly feature = 'vcard';
  readonly #client: FeatureClient;

  constructor(o: VCardsOptions) {
    this.#client = o.client;
  }

  /**
   * The vCard of `jid` (a bare JID), or ours without one. Resolves undefined when
   * there is none (`item-not-found`, or an empty vCard: servers do both; and, for another
   * user's vCard, `service-unavailable`, which XEP-0054 1.3 section 3.1 says means the same).
   */
  async get(jid?: string, options?: IqRequestOptions): Promise<VCard | undefined> {
    let r: Awaited<ReturnType<FeatureClient['iq']>>;
    try {
      r = await this.#client.iq({ type: 'get', to: jid, payload: buildVCard() }, options);
    } catch (err) {
      if (err instanceof StanzaError) {
        if (err.condition === 'item-not-found') return undefined;
        if (err.condition === 'service-unavailable' && jid !== undefined) return undefined;
      }
      throw err;
    }
    const v = r.getChild('vCard', NS_VCARD);
    if (!v || v.elements().length === 0) return undefined;
    return parseVCard(v);
  }

  /** Replace our vCard (XEP-0054 3.2: the whole card is sent; fields left out are removed). */
  async set(card: VCard, options?: IqRequestOptions): Promise<void> {
    await this.#client.iq({ type: 'set', payload: buildVCard(card) }, options);
  }

  /**
   * Change some fields of our vCard, keeping the others (get, merge, set). A `<NOTE/>` with no
   * DESC beside it is taken as the DESC it was: Prosody 0.12 (mod_vcard_legacy) stores a
   * vcard-temp DESC as a vCard4 note and hands it back as NOTE, which XEP-0054 does not define
   * and which it drops when it is sent back, so the text would be lost by the next update.
   */
  async update(patch: VCard, options?: IqRequestOptions): Promise<VCard> {
    const card = { ...noteAsDescription(await this.get(undefined, options)), ...patch };
    await this.set(card, options);
    return card;
  }
}

/** A card whose NOTE (and no DESC) becomes its description (see `VCards.update`). */
function noteAsDescription(card: VCard | undefined): VCard | undefined {
  const note = card?.extra?.find((e) => e.name === 'NOTE' && e.xmlns === NS_VCARD);
  if (!card || !note || card.description !== undefined) return card;
  const text = note.text();
  const extra = card.extra?.filter((e) => e !== note);
  return {
    ...card,
    description: text.trim() === '' ? undefined : text,
    extra: extra?.length ? extra : undefined,
  };
}

/** The photo of a vCard as bytes and its MIME type, or undefined. */
export function photoBytes(card: VCard): { type: string | undefined; bytes: Uint8Array } | undefined {
  const b = card.photo?.binval;
  if (!b) return undefined;
  try {
    return { type: card.photo?.type, bytes: fromBase64(b) };
  } catch (cause) {
    throw new ConfabError('ERR_BAD_REPLY', 'The vCard photo is not valid base64', { cause });
  }
}
