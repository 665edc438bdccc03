/**
 * Namespaces the session layer speaks (RFC 6120, RFC 6121, XEP-0078, XEP-0199, XEP-0198).
 * One place, so a typo is a compile error instead of a silent mismatch.
 */
export const NS_CLIENT = 'jabber:client';
/** Stream framing: `<stream:stream>`, `<stream:features>`, `<stream:error>` (RFC 6120 4). */
export const NS_STREAM = 'http://etherx.jabber.org/streams';
/** Stream error conditions (RFC 6120 4.9.3). */
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';
/** Stanza error conditions (RFC 6120 8.3.3). */
export const NS_STANZA_ERRORS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
/** STARTTLS (RFC 6120 5). */
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
/** SASL (RFC 6120 6). */
export const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
/** Resource binding (RFC 6120 7). */
export const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
/** Session establishment (RFC 3921 3, kept by RFC 6121 Appendix E / draft-cridland-xmpp-session). */
export const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
/** Legacy authentication, the seed's login (XEP-0078). */
export const NS_IQ_AUTH = 'jabber:iq:auth';
/** Stream feature advertising legacy authentication (XEP-0078 section 4). */
export const NS_IQ_AUTH_FEATURE = 'http://jabber.org/features/iq-auth';
/** XMPP Ping (XEP-0199). */
export const NS_PING = 'urn:xmpp:ping';
/** Stream management (XEP-0198); handled by session/sm.ts. */
export const NS_SM = 'urn:xmpp:sm:3';
/** SASL channel-binding type advertisement (XEP-0440). */
export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';
