/**
 * Choosing the SASL mechanism and the channel binding type.
 *
 * Specs:
 * - RFC 6120 6.3.3 (mechanism list in `<mechanisms/>`), 13.8.3 (PLAIN only over TLS)
 * - RFC 5802 6 / RFC 7677 (SCRAM and -PLUS), RFC 5929 (tls-unique: TLS <= 1.2 only, per
 *   RFC 9266 3), RFC 9266 (tls-exporter for TLS 1.3)
 * - XEP-0440 0.4 (SASL Channel-Binding Type Capability: `urn:xmpp:sasl-cb:0`)
 * - RFC 4505 (ANONYMOUS), RFC 4616 (PLAIN)
 *
 * Order, strongest first: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1,
 * PLAIN; ANONYMOUS only when asked for (and then only it). -PLUS is used only when a binding type
 * can be agreed, so it never breaks a login: ejabberd 23.01 offers -PLUS with tls-unique only and
 * no XEP-0440 list, while Node speaks TLS 1.3 where tls-unique does not exist; there we fall back
 * to plain SCRAM (gs2 flag `n`, see scram.ts).
 */
import { ConfabError } from '../../errors.ts';
import type { ChannelBindingType } from '../../transport/types.ts';
import type { Element } from '../../xml/element.ts';
import { createAnonymous } from './anonymous.ts';
import { NS_SASL } from './errors.ts';
import { createPlain } from './plain.ts';
import { createScram, type ScramHash, type ScramKeyCache } from './scram.ts';
import type { SaslMechanismFactory } from './types.ts';

export const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';

const KNOWN_BINDINGS: readonly ChannelBindingType[] = ['tls-exporter', 'tls-unique', 'tls-server-end-point'];

/** Mechanisms confab implements, strongest first. */
export const SUPPORTED_MECHANISMS = [
  'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1',
  'PLAIN',
  'ANONYMOUS',
] as const;

/**
 * How strong a mechanism is, for downgrade warnings: higher is stronger, 0 for mechanisms
 * confab does not know.
 */
export function mechanismStrength(name: string): number {
  const i = (SUPPORTED_MECHANISMS as readonly string[]).indexOf(name);
  return i < 0 ? 0 : SUPPORTED_MECHANISMS.length - i;
}

/** The mechanism names in a `<stream:features>` element, or undefined when it has no `<mechanisms/>`. */
export function parseMechanisms(features: Element): string[] | undefined {
  const m = features.getChild('mechanisms', NS_SASL);
  if (!m) return undefined;
  const out: string[] = [];
  for (const el of m.getChildren('mechanism', NS_SASL)) {
    const name = el.text().trim();
    if (name !== '') out.push(name);
  }
  return out;
}

/**
 * The channel binding types a server advertises with XEP-0440, from `<stream:features>`:
 * undefined when it does not say (no `<sasl-channel-binding/>`), else the known types listed
 * (possibly none). Unknown types are dropped.
 */
export function parseChannelBindings(features: Element): ChannelBindingType[] | undefined {
  const cb = features.getChild('sasl-channel-binding', NS_SASL_CB);
  if (!cb) return undefined;
  const out: ChannelBindingType[] = [];
  for (const el of cb.getChildren('channel-binding', NS_SASL_CB)) {
    const t = el.attr('type') as ChannelBindingType | undefined;
    if (t !== undefined && KNOWN_BINDINGS.includes(t) && !out.includes(t)) out.push(t);
  }
  return out;
}

export interface TlsState {
  /** True when the stream is encrypted (direct TLS, after STARTTLS, wss://). */
  secure: boolean;
  /** The TLS version, e.g. `TLSv1.2`, `TLSv1.3` (Node's names); undefined when unknown. */
  protocol?: string | undefined;
}

export interface BindingAgreement {
  /** The type to bind with, or undefined when none can be agreed. */
  type: ChannelBindingType | undefined;
  /** Why, in words (for the debug log and error messages). */
  reason: string;
}

const OLD_TLS = /^TLSv1(\.[012])?$/;

/**
 * Agree on a channel binding type: the server's XEP-0440 list if it sent one (tls-exporter
 * preferred, then tls-unique on TLS <= 1.2, then tls-server-end-point); without a list,
 * tls-unique on TLS <= 1.2 only. On TLS 1.3 without a list there is no agreement: tls-unique is
 * undefined there and a server that does not advertise tls-exporter may not support it.
 */
export function agreeChannelBinding(
  tls: TlsState,
  serverBindings: readonly ChannelBindingType[] | undefined,
  available: (type: ChannelBindingType) => boolean,
): BindingAgreement {
  if (!tls.secure) return { type: undefined, reason: 'the stream is not encrypted' };
  const old = tls.protocol !== undefined && OLD_TLS.test(tls.protocol);
  const version = tls.protocol ?? 'an unknown TLS version';
  if (serverBindings !== undefined) {
    for (const t of KNOWN_BINDINGS) {
      if (!serverBindings.includes(t)) continue;
      if (t === 'tls-unique' && !old) continue;
      if (available(t)) return { type: t, reason: `the server advertises ${t} (XEP-0440)` };
    }
    const listed = serverBindings.length === 0 ? 'no types' : serverBindings.join(', ');
    return {
      type: undefined,
      reason: `the server advertises ${listed} (XEP-0440), none of which we can provide on ${version}`,
    };
  }
  if (old) {
    if (available('tls-unique')) return { type: 'tls-unique', reason: `tls-unique on ${version}` };
    return { type: undefined, reason: `the transport cannot provide tls-unique on ${version}` };
  }
  return {
    type: undefined,
    reason:
      `the server does not advertise binding types (XEP-0440) and we are on ${version}, ` +
      'where tls-unique does not exist and tls-exporter is used only when advertised',
  };
}

export interface ChooseMechanismOptions {
  /** Mechanism names the server offered, in any order. */
  offered: readonly string[];
  tls: TlsState;
  /** XEP-0440 list from the features (`parseChannelBindings`), or undefined when absent. */
  serverBindings: readonly ChannelBindingType[] | undefined;
  /** Whether the transport can produce binding data of this type (`transport.channelBinding(t) !== undefined`). */
  channelBindingAvailable(type: ChannelBindingType): boolean;
  /** The user allowed plaintext: PLAIN may then be used on an unencrypted stream. */
  allowPlaintext?: boolean | undefined;
  /** Log in anonymously (ANONYMOUS only). */
  anonymous?: boolean | undefined;
  /** The mechanism this account used last time, for the downgrade warning. */
  previous?: string | undefined;
  /** Derived-key cache handed to SCRAM (reconnects skip PBKDF2). */
  scramCache?: ScramKeyCache | undefined;
}

export interface MechanismChoice {
  /** The SASL mechanism name to put in `<auth mechanism=.../>`. */
  name: string;
  /** Makes the mechanism for this attempt. */
  create: SaslMechanismFactory;
  /** The channel binding type for -PLUS. */
  bindingType?: ChannelBindingType | undefined;
  /** Things the user should hear about (downgrade). */
  warnings: string[];
  /** Why each other offered mechanism was not chosen (debug log). */
  skipped: string[];
}

function unsupportedReason(name: string): string {
  if (name === 'DIGEST-MD5' || name === 'CRAM-MD5') return `${name} not supported (obsolete and insecure)`;
  if (name === 'EXTERNAL') return 'EXTERNAL not supported (needs a client certificate)';
  return `${name} not supported by confab`;
}

/**
 * Pick the strongest acceptable mechanism. Throws ConfabError `ERR_AUTH_NO_MECHANISM` whose
 * message lists what the server offered and why each was refused.
 *
 * @example
 * const choice = chooseMechanism({ offered, tls: { secure: true, protocol: 'TLSv1.3' },
 *   serverBindings: parseChannelBindings(features), channelBindingAvailable: (t) => !!transport.channelBinding(t) });
 * const mech = choice.create(ctx);
 */
export function chooseMechanism(opts: ChooseMechanismOptions): MechanismChoice {
  const offered = [...new Set(opts.offered.map((m) => m.trim()).filter((m) => m !== ''))];
  const has = (m: string) => offered.includes(m);
  const reasons = new Map<string, string>();
  let choice: { name: string; create: SaslMechanismFactory; bindingType?: ChannelBindingType } | undefined;

  if (opts.anonymous) {
    if (has('ANONYMOUS')) choice = { name: 'ANONYMOUS', create: () => createAnonymous() };
    for (const m of offered)
      if (m !== 'ANONYMOUS') reasons.set(m, `${m} not used: an anonymous login was requested`);
    if (!choice)
      reasons.set('ANONYMOUS', 'an anonymous login was requested but the server does not offer ANONYMOUS');
  } else {
    const scram = (hash: ScramHash, binding?: ChannelBindingType): SaslMechanismFactory => {
      const cache = opts.scramCache;
      return (ctx) => createScram(ctx, { hash, binding, cache });
    };
    const plusOffered = has('SCRAM-SHA-256-PLUS') || has('SCRAM-SHA-1-PLUS');
    const agreement = plusOffered
      ? agreeChannelBinding(opts.tls, opts.serverBindings, (t) => opts.channelBindingAvailable(t))
      : undefined;
    for (const [name, hash] of [
      ['SCRAM-SHA-256-PLUS', 'SHA-256'],
      ['SCRAM-SHA-1-PLUS', 'SHA-1'],
    ] as const) {
      if (!has(name) || choice) continue;
      if (agreement?.type)
        choice = { name, create: scram(hash, agreement.type), bindingType: agreement.type };
      else
        reasons.set(name, `${name} skipped: no channel binding type could be agreed (${agreement?.reason})`);
    }
    if (!choice && has('SCRAM-SHA-256')) choice = { name: 'SCRAM-SHA-256', create: scram('SHA-256') };
    if (!choice && has('SCRAM-SHA-1')) choice = { name: 'SCRAM-SHA-1', create: scram('SHA-1') };
    if (has('PLAIN') && !choice) {
      if (opts.tls.secure || opts.allowPlaintext)
        choice = { name: 'PLAIN', create: (ctx) => createPlain(ctx) };
      else reasons.set('PLAIN', 'PLAIN refused on an unencrypted stream; pass allowPlaintext to allow it');
    }
    if (has('ANONYMOUS'))
      reasons.set('ANONYMOUS', 'ANONYMOUS not used: an anonymous login was not requested');
  }

  const skipped: string[] = [];
  for (const m of offered) {
    if (m === choice?.name) continue;
    const r =
      reasons.get(m) ??
      ((SUPPORTED_MECHANISMS as readonly string[]).includes(m)
        ? `${m} not needed: ${choice?.name} is stronger`
        : unsupportedReason(m));
    skipped.push(r);
  }
  if (!choice) {
    const list = offered.length === 0 ? 'no mechanisms' : offered.join(', ');
    const why = [...skipped];
    if (opts.anonymous && !offered.includes('ANONYMOUS')) why.push(reasons.get('ANONYMOUS')!);
    throw new ConfabError(
      'ERR_AUTH_NO_MECHANISM',
      `No acceptable authentication mechanism: the server offers ${list}.${why.length ? ` ${why.join('. ')}.` : ''}`,
    );
  }

  const warnings: string[] = [];
  if (opts.previous !== undefined && mechanismStrength(opts.previous) > mechanismStrength(choice.name)) {
    const why = reasons.get(opts.previous);
    warnings.push(
      `Authentication downgrade: this account used ${opts.previous} last time, now ${choice.name}` +
        (why ? ` (${why})` : has(opts.previous) ? '' : ` (the server no longer offers ${opts.previous})`) +
        '. If the server was not reconfigured, someone may be tampering with the connection.',
    );
  }
  return { ...choice, warnings, skipped };
}
