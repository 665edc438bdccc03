/**
 * XEP-0033 1.2.1 "Extended Stanza Addressing" (`http://jabber.org/protocol/address`), the
 * modern form of the seed's jabber:x:envelope: to/cc/bcc lists, reply-to, the original
 * sender (`ofrom`). Always parsed; sent through a multicast service when the server
 * offers one (XEP-0033 2, disco feature below), else one message per recipient.
 */
import type { ElementSpec, Infer } from './schema.ts';

export const NS_ADDRESS = 'http://jabber.org/protocol/address';

/** XEP-0033 4.6 address types. */
export const ADDRESS_TYPES = ['to', 'cc', 'bcc', 'replyto', 'replyroom', 'noreply', 'ofrom'] as const;

export const ADDRESS = {
  name: 'address',
  attrs: {
    type: ADDRESS_TYPES,
    jid: 'jid',
    node: 'string',
    uri: 'string',
    desc: 'string',
    delivered: 'bool',
  },
} as const satisfies ElementSpec;

export const ADDRESSES = {
  name: 'addresses',
  ns: NS_ADDRESS,
  children: { address: { kind: 'element', spec: ADDRESS, many: true } },
} as const satisfies ElementSpec;

export type Address = Infer<typeof ADDRESS>;
export type AddressType = (typeof ADDRESS_TYPES)[number];

/** An address to send (the writer takes any subset of the fields; `jid` as a string). */
export interface AddressInput {
  type: AddressType;
  jid?: string | undefined;
  node?: string | undefined;
  uri?: string | undefined;
  desc?: string | undefined;
}
