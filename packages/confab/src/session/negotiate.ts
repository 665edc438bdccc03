/**
 * Stream negotiation for a client (RFC 6120, "XMPP Core", 2011):
 * - 4.2/4.3 opening the stream and reading the features, 4.7 the header's attributes;
 * - 5 STARTTLS (required by default: RFC 7590 and the issue's rule "no TLS, no auth");
 * - 6 SASL (mechanisms from session/sasl/, chosen there), then the stream restart (6.4.6);
 * - 7 resource binding, with the user's resource or a server-assigned one;
 * - session establishment (RFC 3921 3, still advertised by old servers; skipped when
 *   marked `<optional/>`, draft-cridland-xmpp-session-01);
 * - legacy authentication (XEP-0078 version 2.5, the seed's login) when the server
 *   offers no SASL or the user asks for it: no stream restart, the resource is bound
 *   by the login itself.
 * - stream management (XEP-0198 1.6.3, sections 3 and 5) at the two points the XEP
 *   fixes: `<resume/>` after authentication instead of binding, `<enable/>` after
 *   binding. What to send is the caller's (`sm` hooks, driven by session/sm.ts); this
 *   file only puts it on the stream at the right moment and reads the answer.
 *
 * - `negotiateUntilAuth`: the same steps up to (not including) authentication, for
 *   in-band registration (XEP-0077 2.4, section 3.1.1) on a fresh stream.
 *
 * The steps run in order on a Connection's pull interface, so the code reads like the
 * RFC's list. Everything before authentication is checked: a stream without TLS
 * never gets credentials unless the user allowed plaintext.
 */
import { ConfabError } from '../errors.ts';
import { bare, type FullJid, formatJid, jid } from '../jid.ts';
import type { Transport } from '../transport/types.ts';
import { fromBase64, toBase64 } from '../util/base64.ts';
import { type Element, xml } from '../xml/element.ts';
import type { Connection } from './connection.ts';
import { randomId } from './iq.ts';
import { legacyAuthDigest } from './legacy-auth-digest.ts';
import {
  NS_BIND,
  NS_IQ_AUTH,
  NS_IQ_AUTH_FEATURE,
  NS_SASL,
  NS_SESSION,
  NS_SM,
  NS_STREAM,
  NS_TLS,
} from './ns.ts';
import { saslFailureError } from './sasl/errors.ts';
import type { ScramKeyCache } from './sasl/scram.ts';
import { chooseMechanism, mechanismStrength, parseChannelBindings, parseMechanisms } from './sasl/select.ts';
import { parseStanzaError } from './stanza-error.ts';

export interface NegotiateOptions {
  /** The JID's domain (stream `to`, TLS identity). */
  domain: string;
  /** Username (the JID's local part). */
  username: string;
  /** Resource to bind; undefined lets the server choose. */
  resource: string | undefined;
  password(): Promise<string>;
  /** Allow an unencrypted stream and plaintext credentials on it. */
  allowPlaintext: boolean;
  /** Use legacy jabber:iq:auth even when SASL is offered. */
  legacyAuth: boolean;
  /** SASL ANONYMOUS only (RFC 4505); no password is asked. */
  anonymous?: boolean | undefined;
  /** Only these SASL mechanisms may be used (undefined: any the chooser accepts). */
  mechanisms?: readonly string[] | undefined;
  /** Derived SCRAM keys kept by the client, so a reconnect skips PBKDF2. */
  scramCache?: ScramKeyCache | undefined;
  /** The mechanism this account used last time, to warn on a downgrade. */
  lastMechanism?: string | undefined;
  /** Milliseconds for the whole negotiation. */
  timeout: number;
  lang?: string | undefined;
  log(line: string): void;
  warn(code: 'sasl-downgrade', message: string): void;
  /** Stream management hooks; without them SM is never negotiated. Called only when the server offers SM. */
  sm?: SmHooks | undefined;
}

/**
 * How negotiation asks the client's stream management what to do (XEP-0198 sections 3
 * and 5). Each hook runs only when the final stream's features offer `urn:xmpp:sm:3`.
 */
export interface SmHooks {
  /** After authentication: a `<resume/>` to try instead of binding (and the JID that stream had), or undefined. */
  resume(): { element: Element; jid: FullJid } | undefined;
  /** The server answered `<resume/>` with `<failed/>`; binding follows at once. */
  resumeFailed(failed: Element): void;
  /** After binding: an `<enable/>` to write (then its answer is read), or undefined to not enable. */
  enable(): Element | undefined;
}

/** What a finished negotiation tells the session. */
export interface Negotiated {
  /** The bound full JID. */
  jid: FullJid;
  /** How we authenticated: a SASL mechanism name, or `jabber:iq:auth` (legacy). */
  mechanism: string;
  /** The server's stream id (the last stream). */
  streamId: string | undefined;
  /** The features of the final stream (after auth): stream management, CSI, roster versioning... */
  features: Element | undefined;
  /** True after legacy auth: no restart happened, so no stream management (XEP-0198 needs SASL's restart). */
  legacy: boolean;
  /** `<resumed/>`: the previous stream was resumed (no bind happened; `jid` is that stream's). */
  resumed?: Element | undefined;
  /** The server's answer to our `<enable/>` (`<enabled/>` or `<failed/>`), when one was sent. */
  smAnswer?: Element | undefined;
}

class Negotiation {
  readonly #c: Connection;
  readonly #t: Transport;
  readonly #o: NegotiateOptions;
  readonly #deadline: number;
  #streamId: string | undefined;

  constructor(c: Connection, o: NegotiateOptions) {
    this.#c = c;
    this.#t = c.transport;
    this.#o = o;
    this.#deadline = Date.now() + o.timeout;
  }

  /** The server's id of the current stream. */
  get streamId(): string | undefined {
    return this.#streamId;
  }

  #left(): number {
    return Math.max(1, this.#deadline - Date.now());
  }

  /**
   * RFC 6120 4.3 and 5: open the stream, secure it (STARTTLS where the transport is not
   * secure yet), refuse to go on without TLS unless plaintext was allowed, and return the
   * features of the secured stream: everything before authentication. In-band
   * registration (XEP-0077) stops here; a login goes on in `run()`.
   */
  async secure(): Promise<Element | undefined> {
    const o = this.#o;
    let features = await this.#open();
    // 5. STARTTLS
    if (!this.#t.secure) {
      const starttls = features?.getChild('starttls', NS_TLS);
      if (starttls && this.#t.kind === 'tcp') {
        await this.#c.send(xml('starttls', { xmlns: NS_TLS }));
        const answer = await this.#c.next(this.#left(), 'STARTTLS answer');
        if (answer.is('failure', NS_TLS)) {
          throw new ConfabError(
            'ERR_TLS_REQUIRED',
            'The server refused STARTTLS (<failure/>); not logging in',
            {
              element: answer,
            },
          );
        }
        if (!answer.is('proceed', NS_TLS)) throw unexpected(answer, 'STARTTLS');
        await this.#t.startTls();
        o.log('TLS established with STARTTLS');
        features = await this.#open();
      } else if (!o.allowPlaintext) {
        if (this.#t.kind === 'tcp') {
          throw new ConfabError(
            'ERR_TLS_REQUIRED',
            `The server ${o.domain} offers no STARTTLS; refusing to log in without TLS (set allowPlaintext: true to allow an unencrypted connection)`,
          );
        }
        throw plaintextRefused(o.domain);
      }
    }
    if (!this.#t.secure && !o.allowPlaintext) throw plaintextRefused(o.domain);
    return features;
  }

  async run(): Promise<Negotiated> {
    const o = this.#o;
    let features = await this.secure();

    // 6. Authentication
    const mechanisms = features ? parseMechanisms(features) : undefined;
    const legacyOffered =
      features === undefined || features.getChild('auth', NS_IQ_AUTH_FEATURE) !== undefined;
    if (o.anonymous && !mechanisms?.includes('ANONYMOUS')) {
      throw new ConfabError(
        'ERR_AUTH_NO_MECHANISM',
        `The server ${o.domain} does not offer anonymous logins (SASL ANONYMOUS)`,
        { element: features },
      );
    }
    if (o.legacyAuth || !mechanisms || mechanisms.length === 0) {
      if (!o.legacyAuth && !legacyOffered) {
        throw new ConfabError('ERR_AUTH_NO_MECHANISM', `The server ${o.domain} offers no way to log in`, {
          element: features,
        });
      }
      const bound = await this.#legacyAuth();
      // Asked for legacy auth: the user chose it. Fallen back to it: say so if SASL worked before.
      const last = o.lastMechanism;
      if (!o.legacyAuth && last && mechanismStrength(last) > 0) {
        o.warn(
          'sasl-downgrade',
          `Authentication downgrade: this account used ${last} last time, now legacy jabber:iq:auth because the server offers no SASL. If the server was not reconfigured, someone may be tampering with the connection.`,
        );
      }
      return { jid: bound, mechanism: 'jabber:iq:auth', streamId: this.#streamId, features, legacy: true };
    }
    const mechanism = await this.#sasl(mechanisms, features!);
    features = await this.#open();

    // XEP-0198 5: resume the previous session instead of binding, where it may be resumed.
    const smOffered = features?.getChild('sm', NS_SM) !== undefined;
    if (smOffered && o.sm) {
      const resume = o.sm.resume();
      if (resume) {
        await this.#c.send(resume.element);
        const answer = await this.#smAnswer('resumption answer');
        if (answer.name === 'resumed') {
          o.log('stream management: session resumed');
          return {
            jid: resume.jid,
            mechanism,
            streamId: this.#streamId,
            features,
            legacy: false,
            resumed: answer,
          };
        }
        o.log('stream management: resumption refused, binding a new session');
        o.sm.resumeFailed(answer);
      }
    }

    // 7. Resource binding
    if (!features?.getChild('bind', NS_BIND)) {
      throw new ConfabError('ERR_BIND', 'The server offers no resource binding after authentication', {
        element: features,
      });
    }
    const bound = await this.#bind();
    const session = features.getChild('session', NS_SESSION);
    if (session && !session.getChild('optional')) await this.#session();
    // XEP-0198 3: enable after binding. We wait for the answer (one round trip) so that
    // counting starts on a known footing before any stanza of ours goes out.
    let smAnswer: Element | undefined;
    const enable = smOffered ? o.sm?.enable() : undefined;
    if (enable) {
      await this.#c.send(enable);
      smAnswer = await this.#smAnswer('answer to <enable/>');
    }
    return { jid: bound, mechanism, streamId: this.#streamId, features, legacy: false, smAnswer };
  }

  /** The next `<enabled/>`, `<resumed/>` or `<failed/>` (stanzas before it are logged and skipped, as in `#iq`). */
  async #smAnswer(what: string): Promise<Element> {
    for (;;) {
      const el = await this.#c.next(this.#left(), what);
      if (el.xmlns === NS_SM && (el.name === 'enabled' || el.name === 'resumed' || el.name === 'failed')) {
        return el;
      }
      this.#o.log(`skipped <${el.name}> while waiting for the ${what}`);
    }
  }

  /** Open (or restart) the stream, check the header, read the features (undefined: pre-1.0 server). */
  async #open(): Promise<Element | undefined> {
    const o = this.#o;
    // RFC 6120 4.7.1: include `from` (our bare JID) only once the stream is encrypted,
    // so an eavesdropper does not learn who is connecting.
    this.#c.openStream({
      to: o.domain,
      // RFC 6120 4.7.1: our bare JID, only once encrypted; an anonymous login has none yet.
      // Nor has an account still to be registered (XEP-0077: username '').
      from: this.#t.secure && !o.anonymous && o.username !== '' ? `${o.username}@${o.domain}` : undefined,
      lang: o.lang,
    });
    const header = await this.#c.header(this.#left());
    this.#streamId = header.id;
    const from = header.from;
    if (from !== undefined && from.toLowerCase() !== o.domain.toLowerCase()) {
      o.log(`stream header from '${from}' differs from the domain '${o.domain}'`);
    }
    const version = header.version;
    if (version === undefined || !/^1\.\d+$/.test(version)) {
      // Before XMPP 1.0 (the seed's Jabber) there were no features: legacy auth only.
      // Any other major version we cannot speak.
      if (version !== undefined && !/^0\./.test(version)) {
        throw new ConfabError('ERR_NEGOTIATION', `Unsupported stream version ${version}`);
      }
      o.log('pre-XMPP-1.0 server: no stream features, legacy authentication');
      return undefined;
    }
    const features = await this.#c.next(this.#left(), 'stream features');
    if (!features.is('features', NS_STREAM)) throw unexpected(features, 'stream features');
    return features;
  }

  async #sasl(offered: string[], features: Element): Promise<string> {
    const o = this.#o;
    const t = this.#t;
    const serverBindings = parseChannelBindings(features);
    // Throws ERR_AUTH_NO_MECHANISM listing what was offered and why each was refused.
    // An allowlist narrows what we choose from, never what the mechanism is told the
    // server offered: SCRAM's gs2 flag must reflect the server's real list (a `y` while
    // the server offers -PLUS would make it abort, rightly suspecting a downgrade).
    const allowed = o.mechanisms;
    const choice = chooseMechanism({
      offered: allowed ? offered.filter((m) => allowed.includes(m)) : offered,
      tls: { secure: t.secure, protocol: t.tls?.protocol },
      serverBindings,
      channelBindingAvailable: (type) => t.channelBinding(type) !== undefined,
      allowPlaintext: o.allowPlaintext,
      anonymous: o.anonymous,
      previous: o.lastMechanism,
      scramCache: o.scramCache,
    });
    for (const line of choice.skipped) o.log(line);
    for (const w of choice.warnings) o.warn('sasl-downgrade', w);
    const password = o.anonymous ? '' : await o.password();
    const mech = choice.create({
      credentials: { username: o.username, password },
      offered,
      serverBindings,
      channelBinding: (type) => t.channelBinding(type),
      tlsProtocol: t.tls?.protocol,
      log: o.log,
    });
    const initial = await mech.start();
    // RFC 6120 6.4.2: an empty initial response is sent as '='.
    await this.#c.send(
      xml(
        'auth',
        { xmlns: NS_SASL, mechanism: choice.name },
        initial === undefined ? null : initial.length === 0 ? '=' : toBase64(initial),
      ),
    );
    for (;;) {
      const el = await this.#c.next(this.#left(), 'SASL answer');
      if (el.is('challenge', NS_SASL)) {
        const reply = await mech.challenge(decode(el));
        await this.#c.send(xml('response', { xmlns: NS_SASL }, reply.length === 0 ? null : toBase64(reply)));
      } else if (el.is('success', NS_SASL)) {
        const text = el.text().trim();
        await mech.success(text === '' || text === '=' ? undefined : decode(el));
        o.log(`authenticated with ${choice.name}`);
        return choice.name;
      } else if (el.is('failure', NS_SASL)) {
        throw saslFailureError(el);
      } else {
        throw unexpected(el, 'SASL');
      }
    }
  }

  async #bind(): Promise<FullJid> {
    const o = this.#o;
    const reply = await this.#iq(
      xml(
        'iq',
        { type: 'set' },
        xml('bind', { xmlns: NS_BIND }, o.resource ? xml('resource', {}, o.resource) : null),
      ),
      'ERR_BIND',
    );
    const text = reply.getChild('bind', NS_BIND)?.getChildText('jid');
    let bound: FullJid;
    try {
      const j = jid(text ?? '');
      if (j.indexOf('/') < 0) throw new Error('bare');
      bound = j as FullJid;
    } catch {
      throw new ConfabError('ERR_BIND', `The server bound an invalid JID '${text ?? ''}'`, {
        element: reply,
      });
    }
    // An anonymous login gets a JID the server makes up; any other differing one is logged.
    if (!o.anonymous && bare(bound) !== formatJid({ local: o.username, domain: o.domain })) {
      o.log(`server bound ${bound}, not under ${o.username}@${o.domain}`);
    }
    return bound;
  }

  async #session(): Promise<void> {
    await this.#iq(xml('iq', { type: 'set' }, xml('session', { xmlns: NS_SESSION })), 'ERR_NEGOTIATION');
  }

  /** XEP-0078 section 3: get the fields, then set with the digest (or, on TLS / when allowed, the password). */
  async #legacyAuth(): Promise<FullJid> {
    const o = this.#o;
    const fields = await this.#iq(
      xml(
        'iq',
        { type: 'get', to: o.domain },
        xml('query', { xmlns: NS_IQ_AUTH }, xml('username', {}, o.username)),
      ),
      'ERR_AUTH',
    );
    const query = fields.getChild('query', NS_IQ_AUTH);
    const password = await o.password();
    // The old protocol requires a resource; a fresh random one, like one-shot commands use.
    const resource = o.resource ?? `confab-${randomId(6)}`;
    let secret: Element;
    if (query?.getChild('digest') && this.#streamId) {
      secret = xml('digest', {}, await legacyAuthDigest(this.#streamId, password));
    } else if (query?.getChild('password')) {
      if (!this.#t.secure && !o.allowPlaintext) throw plaintextRefused(o.domain);
      secret = xml('password', {}, password);
    } else {
      throw new ConfabError(
        'ERR_AUTH_NO_MECHANISM',
        'The server offers neither digest nor password legacy login',
        {
          element: fields,
        },
      );
    }
    await this.#iq(
      xml(
        'iq',
        { type: 'set', to: o.domain },
        xml(
          'query',
          { xmlns: NS_IQ_AUTH },
          xml('username', {}, o.username),
          secret,
          xml('resource', {}, resource),
        ),
      ),
      'ERR_AUTH',
    );
    o.log(`authenticated with jabber:iq:auth (${secret.name})`);
    return formatJid({ local: o.username, domain: o.domain, resource }) as FullJid;
  }

  /**
   * One iq during negotiation, matched by id. Nothing else may legitimately arrive
   * before we are bound; anything that does is logged and skipped.
   */
  async #iq(el: Element, code: 'ERR_BIND' | 'ERR_AUTH' | 'ERR_NEGOTIATION'): Promise<Element> {
    const id = randomId();
    el.attrs.id = id;
    await this.#c.send(el);
    for (;;) {
      const reply = await this.#c.next(this.#left(), `reply to ${el.elements()[0]?.name ?? 'iq'}`);
      if (!reply.is('iq') || reply.attr('id') !== id) {
        this.#o.log(`skipped <${reply.name}> while waiting for iq ${id}`);
        continue;
      }
      if (reply.attr('type') === 'result') return reply;
      if (reply.attr('type') === 'error') {
        const se = parseStanzaError(reply);
        const what =
          code === 'ERR_BIND' ? 'Resource binding' : code === 'ERR_AUTH' ? 'Legacy login' : 'Session';
        throw new ConfabError(code, `${what} failed: ${se.condition}${se.text ? ` (${se.text})` : ''}`, {
          condition: se.condition,
          type: se.type,
          text: se.text,
          element: reply,
        });
      }
    }
  }
}

/** Run the whole negotiation on a connected transport; resolves bound. */
export function negotiate(connection: Connection, options: NegotiateOptions): Promise<Negotiated> {
  return new Negotiation(connection, options).run();
}

/** What the negotiation up to authentication needs (a subset of NegotiateOptions). */
export type PreAuthOptions = Pick<NegotiateOptions, 'domain' | 'allowPlaintext' | 'timeout' | 'lang' | 'log'>;

/** The secured stream before authentication: its features (undefined: pre-1.0 server) and id. */
export interface PreAuthNegotiated {
  features: Element | undefined;
  streamId: string | undefined;
}

/**
 * Negotiate only up to authentication (RFC 6120 4.3, 5): STARTTLS and the checks a login
 * makes (TLS required unless `allowPlaintext`), then stop with the stream features. For
 * in-band registration (XEP-0077 3.1.1 "Registration with a Server": an unauthenticated
 * entity registers on a fresh stream, then authenticates on a new one). No `from` is sent
 * on the stream header: there is no account yet.
 */
export async function negotiateUntilAuth(
  connection: Connection,
  options: PreAuthOptions,
): Promise<PreAuthNegotiated> {
  const n = new Negotiation(connection, {
    ...options,
    username: '',
    resource: undefined,
    password: () => Promise.reject(new ConfabError('ERR_UNSUPPORTED', 'No login before registration')),
    legacyAuth: false,
    warn: () => {},
  });
  const features = await n.secure();
  return { features, streamId: n.streamId };
}

function decode(el: Element): Uint8Array {
  const text = el.text().trim();
  if (text === '' || text === '=') return new Uint8Array(0);
  try {
    return fromBase64(text);
  } catch (cause) {
    throw new ConfabError('ERR_AUTH_PROTOCOL', `The server sent invalid base64 in <${el.name}>`, {
      cause,
      element: el,
    });
  }
}

function unexpected(el: Element, step: string): ConfabError {
  return new ConfabError('ERR_NEGOTIATION', `Unexpected <${el.name} xmlns='${el.xmlns}'> during ${step}`, {
    element: el,
  });
}

function plaintextRefused(domain: string): ConfabError {
  return new ConfabError(
    'ERR_PLAINTEXT_REFUSED',
    `Refusing an unencrypted connection to ${domain}: anyone on the path could read the password and messages (set allowPlaintext: true, or --allow-plaintext in the CLI, to allow it)`,
  );
}
