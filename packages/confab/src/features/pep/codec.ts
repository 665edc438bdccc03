/**
 * Personal eventing wire format: XEP-0163 "Personal Eventing Protocol" v1.2.2 over
 * XEP-0060 "Publish-Subscribe" v1.30.0 (7.1 publish with 7.1.5 publish-options,
 * 6.5 retrieve items, 7.2 retract, 4.3 / 7.1.2.1 event notifications), and the two
 * payloads we model: XEP-0172 "User Nickname" v1.1 and XEP-0084 "User Avatar" v1.1.4.
 */
import { type Element, xml } from '../../xml/element.ts';
import { buildForm } from '../disco/codec.ts';

export const NS = {
  pubsub: 'http://jabber.org/protocol/pubsub',
  event: 'http://jabber.org/protocol/pubsub#event',
  publishOptions: 'http://jabber.org/protocol/pubsub#publish-options',
  nick: 'http://jabber.org/protocol/nick',
  avatarData: 'urn:xmpp:avatar:data',
  avatarMetadata: 'urn:xmpp:avatar:metadata',
} as const;

/** One pubsub item: its id (servers assign one when we give none) and payload. */
export interface PubsubItem {
  id: string | undefined;
  payload: Element | undefined;
}

/** What one `<event/>` says (XEP-0060 7.1.2.1, 7.2.2.1, 8.4, 8.5). */
export type PubsubEvent =
  | { kind: 'items'; node: string; items: PubsubItem[]; retracted: string[] }
  | { kind: 'purge'; node: string }
  | { kind: 'delete'; node: string };

/** Publish options (XEP-0060 7.1.5), e.g. `{ 'pubsub#access_model': 'open' }`. */
export type PublishOptions = Record<string, string | string[]>;

function toItem(i: Element): PubsubItem {
  return { id: i.attr('id'), payload: i.elements()[0] };
}

/** `<pubsub><publish node><item id>payload</item></publish>[<publish-options/>]</pubsub>` */
export function buildPublish(node: string, payload: Element, id?: string, options?: PublishOptions): Element {
  return xml(
    'pubsub',
    { xmlns: NS.pubsub },
    xml('publish', { node }, xml('item', { id }, payload)),
    options
      ? xml(
          'publish-options',
          null,
          buildForm({
            type: 'submit',
            fields: [
              { var: 'FORM_TYPE', type: 'hidden', values: [NS.publishOptions] },
              ...Object.entries(options).map(([k, v]) => ({ var: k, values: Array.isArray(v) ? v : [v] })),
            ],
          }),
        )
      : null,
  );
}

/** The id the service gave the published item (7.1.2), if it said. */
export function parsePublishResult(iq: Element): string | undefined {
  return iq
    .getChild('pubsub', NS.pubsub)
    ?.getChild('publish', NS.pubsub)
    ?.getChild('item', NS.pubsub)
    ?.attr('id');
}

/** `<pubsub><items node max_items><item id/>...</items></pubsub>` (6.5.2, 6.5.7, 6.5.8). */
export function buildItemsRequest(node: string, ids?: readonly string[], max?: number): Element {
  return xml(
    'pubsub',
    { xmlns: NS.pubsub },
    xml(
      'items',
      { node, max_items: max },
      (ids ?? []).map((id) => xml('item', { id })),
    ),
  );
}

export function parseItemsResult(iq: Element): PubsubItem[] {
  const items = iq.getChild('pubsub', NS.pubsub)?.getChild('items', NS.pubsub);
  return items ? items.getChildren('item', NS.pubsub).map(toItem) : [];
}

/** `<pubsub><retract node notify><item id/></retract></pubsub>` (7.2.1). */
export function buildRetract(node: string, id: string, notify = true): Element {
  return xml(
    'pubsub',
    { xmlns: NS.pubsub },
    xml('retract', { node, notify: notify ? 'true' : undefined }, xml('item', { id })),
  );
}

/** Read the `<event/>` of a message, or undefined when it has none. */
export function parseEvent(message: Element): PubsubEvent | undefined {
  const ev = message.getChild('event', NS.event);
  if (!ev) return undefined;
  const items = ev.getChild('items', NS.event);
  const node = items?.attr('node');
  if (items && node !== undefined) {
    return {
      kind: 'items',
      node,
      items: items.getChildren('item', NS.event).map(toItem),
      retracted: items
        .getChildren('retract', NS.event)
        .map((r) => r.attr('id'))
        .filter((x): x is string => x !== undefined),
    };
  }
  const purge = ev.getChild('purge', NS.event)?.attr('node');
  if (purge !== undefined) return { kind: 'purge', node: purge };
  const del = ev.getChild('delete', NS.event)?.attr('node');
  if (del !== undefined) return { kind: 'delete', node: del };
  return undefined;
}

// ---------------------------------------------------------------- XEP-0172

export function buildNick(nick: string): Element {
  return xml('nick', { xmlns: NS.nick }, nick);
}

/** The nickname of a payload; '' (an empty `<nick/>`) means "none". */
export function parseNick(payload: Element | undefined): string | undefined {
  if (!payload?.is('nick', NS.nick)) return undefined;
  return payload.text().trim();
}

// ---------------------------------------------------------------- XEP-0084

/** `<info/>` attributes (XEP-0084 4.2.1): declared once, the type follows. */
export const AVATAR_INFO_ATTRS = {
  id: 'string',
  bytes: 'number',
  type: 'string',
  width: 'number',
  height: 'number',
  url: 'string',
} as const;
type InfoSpec = typeof AVATAR_INFO_ATTRS;
type Req = 'id' | 'bytes' | 'type';
export type AvatarInfo = { [K in Req]: InfoSpec[K] extends 'number' ? number : string } & {
  [K in Exclude<keyof InfoSpec, Req>]?: (InfoSpec[K] extends 'number' ? number : string) | undefined;
};

export function buildAvatarData(base64: string): Element {
  return xml('data', { xmlns: NS.avatarData }, base64);
}

export function parseAvatarData(payload: Element | undefined): string | undefined {
  return payload?.is('data', NS.avatarData) ? payload.text().replace(/\s+/g, '') : undefined;
}

/** `<metadata><info .../>...</metadata>`; no infos = the avatar is switched off (4.2.2). */
export function buildAvatarMetadata(infos: readonly AvatarInfo[]): Element {
  return xml(
    'metadata',
    { xmlns: NS.avatarMetadata },
    infos.map((i) => xml('info', i as unknown as Record<string, string | number | undefined>)),
  );
}

/** The infos of a metadata payload ([] = no avatar); undefined when it is not metadata. */
export function parseAvatarMetadata(payload: Element | undefined): AvatarInfo[] | undefined {
  if (!payload?.is('metadata', NS.avatarMetadata)) return undefined;
  const out: AvatarInfo[] = [];
  for (const info of payload.getChildren('info', NS.avatarMetadata)) {
    const v: Record<string, string | number> = {};
    let ok = true;
    for (const [k, t] of Object.entries(AVATAR_INFO_ATTRS)) {
      const a = info.attr(k);
      if (a === undefined) continue;
      if (t === 'number') {
        if (!/^\d+$/.test(a)) ok = false;
        else v[k] = Number(a);
      } else v[k] = a;
    }
    if (ok && v.id !== undefined && v.bytes !== undefined && v.type !== undefined)
      out.push(v as unknown as AvatarInfo);
  }
  return out;
}
