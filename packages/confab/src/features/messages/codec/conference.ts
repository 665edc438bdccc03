/**
 * XEP-0249 1.2 "Direct MUC Invitations" (`jabber:x:conference`): `<x jid password reason
 * continue thread/>`. The seed's older jabber:x:conference invitation (JPO 1.6.17) is the
 * same element with the reason as its text: read both.
 */
import type { ElementSpec } from './schema.ts';

export const NS_CONFERENCE = 'jabber:x:conference';

export const X_CONFERENCE = {
  name: 'x',
  ns: NS_CONFERENCE,
  attrs: { jid: 'jid', password: 'string', reason: 'string', continue: 'bool', thread: 'string' },
  text: 'string',
} as const satisfies ElementSpec;
