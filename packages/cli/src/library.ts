/**
 * The adapter from the CLI's session interface (session.ts) to the library's public API. The only
 * file of the CLI that knows `createClient`'s options and events.
 *
 * Delivery confirmation for `send`: after the message, an XEP-0199 ping to our server. A server
 * handles one client's stanzas in order (RFC 6120 10.1, "in-order processing"), so its answer (a
 * result, or an error reply: either proves the round trip) means the message was taken, with or
 * without stream management. A bounce of our message (`<message type='error'>` with our id) that
 * arrives before that answer fails the send with the XMPP condition.
 *
 * Specs: XEP-0203 v2.0 (delay, read from the stanza), XEP-0091 (legacy delay, read only),
 * XEP-0066 v1.5 (jabber:x:oob in messages), XEP-0199 v2.0 (ping). The account commands (roster,
 * presence, vCard, nick, avatar, blocking, private storage, disco) map onto the library's
 * built-in features (`client.roster`, `client.presence`, ...); XEP-0144 v1.1 roster item
 * exchange goes through `client.messages.send({ rosterItems })`.
 */
import {
  type Client,
  ConfabError,
  createClient,
  type Element,
  markupToXhtmlIm,
  StanzaError,
  xml,
} from 'confab';
import { serialize } from 'confab/xml';
import { registrationOf } from './library-accounts.ts';
import { connectionOptions } from './library-connection.ts';
import { filesOf } from './library-files.ts';
import { roomsOf } from './library-rooms.ts';
import type {
  AvatarMeta,
  CliAccountData,
  CliEvent,
  CliPresence,
  CliProfile,
  CliRoster,
  CliSession,
  ContactStatus,
  DiscoInfoView,
  IncomingMessage,
  RosterEntry,
  SessionFactory,
  VCardFields,
} from './session.ts';
import { openAccountStorage } from './store/attach.ts';
import { parseRootIn } from './xmltext.ts';

const NS_PING = 'urn:xmpp:ping';
const NS_DELAY = 'urn:xmpp:delay';
const NS_LEGACY_DELAY = 'jabber:x:delay';
const NS_OOB = 'jabber:x:oob';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_XHTML = 'http://www.w3.org/1999/xhtml';

/**
 * `--xhtml MARKUP` as a XEP-0071 `<html/>` holding one XHTML `<body/>`, sanitized to the
 * XEP-0071 profile. Throws ConfabError ERR_BAD_INPUT (exit 2) when the markup is not XML.
 */
export function xhtmlFromMarkup(markup: string): Element {
  // Parsed and sanitized to the XEP-0071 profile (ERR_BAD_INPUT on markup that is not XML).
  return markupToXhtmlIm(markup);
}

const BLOCKS = new Set(['p', 'div', 'blockquote', 'pre', 'li', 'ul', 'ol', 'h1', 'h2', 'h3']);

/** The text of an XHTML-IM `<html/>` (its first body): line breaks for `<br/>` and blocks. */
export function xhtmlText(html: Element): string {
  const body = html.getChildren('body', NS_XHTML)[0] ?? html.elements()[0];
  if (!body) return '';
  const walk = (el: Element): string => {
    let s = '';
    for (const c of el.children) {
      if (typeof c === 'string') s += c;
      else if (c.name === 'br') s += '\n';
      else if (BLOCKS.has(c.name)) s += `${s === '' || s.endsWith('\n') ? '' : '\n'}${walk(c)}\n`;
      else s += walk(c);
    }
    return s;
  };
  return walk(body).replace(/\n+$/, '');
}

/** XEP-0203 `stamp` (ISO 8601), or XEP-0091's `CCYYMMDDThh:mm:ss` (UTC). */
export function parseStamp(stamp: string | undefined): Date | undefined {
  if (!stamp) return undefined;
  const legacy = /^(\d{4})(\d{2})(\d{2})T(\d{2}:\d{2}:\d{2})$/.exec(stamp);
  const d = new Date(legacy ? `${legacy[1]}-${legacy[2]}-${legacy[3]}T${legacy[4]}Z` : stamp);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** The CLI's view of an incoming `<message/>` element. */
export function readMessage(
  el: Element,
  base: {
    from: string | undefined;
    to: string | undefined;
    id: string | undefined;
    type: string | undefined;
  },
): IncomingMessage {
  const delayEl = el.getChild('delay', NS_DELAY) ?? el.getChild('x', NS_LEGACY_DELAY);
  return {
    ...base,
    body: el.getChildText('body'),
    subject: el.getChildText('subject'),
    thread: el.getChildText('thread'),
    delay: parseStamp(delayEl?.attr('stamp')),
    delayFrom: delayEl?.attr('from'),
    oob: el
      .getChildren('x', NS_OOB)
      .map((x) => ({ url: x.getChildText('url')?.trim() ?? '', desc: x.getChildText('desc') }))
      .filter((o) => o.url !== ''),
  };
}

/** The error carried by a bounced stanza (RFC 6120 8.3). */
function bounceError(el: Element): StanzaError {
  const err = el.getChild('error');
  const condition = err?.elements().find((c) => c.xmlns === NS_STANZAS && c.name !== 'text')?.name;
  const text = err?.getChildText('text', NS_STANZAS);
  return new StanzaError(`${el.attr('from') ?? 'the server'} refused the message`, {
    condition: condition ?? 'undefined-condition',
    type: err?.attr('type'),
    text,
    element: el,
  });
}

export const createSession: SessionFactory = async (p) => {
  const a = p.account;
  const domain = a.jid.slice(a.jid.indexOf('@') + 1);
  // The account's database (store/): history, and the library's durable Store when this process
  // holds the account's lease.
  const storage = p.dataDir === undefined ? undefined : openAccountStorage(p.dataDir, a.jid, p.note);
  const client = createClient({
    // The roster cache, outbox, stream-management session and archive position persist per account.
    store: storage?.store,
    ...connectionOptions(a),
    password: p.password,
    initialPresence: p.presence,
    // The CLI never goes away by itself; the presence it sends is the one the command asked for.
    presence: {
      autoAway: false,
      own: {
        show: p.presenceState?.show,
        status: p.presenceState?.status,
        priority: p.presenceState?.priority ?? 0,
      },
    },
    reconnect: p.reconnect,
    // One-shot commands never join the user's autojoin bookmarks; `chat` makes its own client.
    bookmarks: { autojoin: false },
    debug: p.debug ?? false,
    // No archive catch-up by itself: with a durable Store the archive position outlives the
    // process, and a catch-up racing the offline delivery would take those messages (the
    // library keeps the first copy) away from `listen`. `history --sync` and the chat client
    // catch up when they mean to (session.history.catchUp / sync).
    mam: { catchUp: false },
  });
  // Subscribed before connecting: offline messages follow our presence at once, and none may
  // slip past between `connect()` resolving and the command adding its listener. Held until then.
  const listeners = new Set<(m: IncomingMessage) => void>();
  let held: IncomingMessage[] | undefined = [];
  // Every message sent or received goes into the history (store/recorder.ts), archive results too.
  const history = storage?.attach(client);
  const closeStorage = () => storage?.close();
  client.on('message', (msg) => {
    // Archive results (catch-up, history --sync) are the past: history, not incoming messages.
    if (msg.source === 'archive') return;
    const m = readMessage(msg.element, { from: msg.from, to: msg.to, id: msg.id, type: msg.type });
    if (msg.xhtml) m.xhtml = { xml: serialize(msg.xhtml), text: xhtmlText(msg.xhtml) };
    if (msg.expire) m.expire = msg.expire.seconds;
    if (msg.addresses.length > 0)
      m.addresses = msg.addresses.map((x) => ({ type: x.type ?? 'to', jid: x.jid }));
    if (msg.outgoing) m.outgoing = true;
    if (held) held.push(m);
    else for (const l of listeners) l(m);
  });
  const events = eventsOf(client);
  const onAbort = () => void client.disconnect();
  p.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
  } catch (err) {
    closeStorage();
    throw err;
  } finally {
    p.signal.removeEventListener('abort', onAbort);
  }

  const session: CliSession = {
    get jid() {
      return client.jid ?? a.jid;
    },

    async sendMessage(m) {
      let bounced: ((err: StanzaError) => void) | undefined;
      const bounce = new Promise<never>((_, reject) => {
        bounced = reject;
      });
      const ids = new Set<string>();
      const off = client.on('stanza', (el) => {
        const id = el.attr('id');
        if (el.name === 'message' && el.attr('type') === 'error' && id !== undefined && ids.has(id)) {
          bounced?.(bounceError(el));
        }
      });
      try {
        const base = {
          body: m.body,
          type: m.type,
          subject: m.subject,
          thread: m.thread,
          receipt: m.receipt || undefined,
          expire: m.expire,
          oob: m.oob?.length ? m.oob : undefined,
          xhtml: m.xhtml === undefined ? undefined : xhtmlFromMarkup(m.xhtml),
        };
        if (m.cc?.length) {
          const r = await client.messages.sendToMany(base, [
            { type: 'to', jid: m.to },
            ...m.cc.map((j) => ({ type: 'cc' as const, jid: j })),
          ]);
          for (const s of r.sent) ids.add(s.id);
          await Promise.race([Promise.all(r.sent.map((s) => s.confirmed)), bounce]);
          const all = r.sent.map((s) => s.id);
          return { id: all[0]!, ids: all, via: r.via };
        }
        const sent = await client.messages.send({ ...base, to: m.to });
        ids.add(sent.id);
        // `confirmed`: the server acked it (stream management) or answered a ping sent after it.
        await Promise.race([sent.confirmed, bounce]);
        return { id: sent.id };
      } finally {
        off();
      }
    },

    async waitReceipt(id, seconds, signal) {
      const r = await client.messages.waitForReceipt(id, { timeout: seconds * 1000, signal });
      return { from: r.from };
    },

    onEvent: events.on,

    onMessage(listener) {
      listeners.add(listener);
      const backlog = held;
      held = undefined;
      for (const m of backlog ?? []) listener(m);
      return () => listeners.delete(listener);
    },

    onFatal(listener) {
      return client.on('offline', (e) => {
        if (e.error) listener(e.error);
      });
    },

    async disconnect() {
      try {
        await client.disconnect();
      } finally {
        // After the library's last Store writes of the session (they follow the close).
        await new Promise((resolve) => setImmediate(resolve));
        closeStorage();
      }
    },

    roundTrip: () => roundTrip(client, domain),
    roster: rosterOf(client, domain),
    presence: presenceOf(client),
    profile: profileOf(client),
    account: accountDataOf(client, domain),
    rooms: roomsOf(client, domain),
    files: filesOf(client, domain),
    registration: registrationOf(client, domain),
    history,
  };
  return session;
};

/**
 * The non-message events `listen` prints, from the library's feature events: presence per full
 * JID (our own resource left out), subscription requests and answers, receipts, chat states,
 * direct and mediated invitations, roster pushes after the first load (the load itself is not a
 * change), XEP-0144 suggestions. Subscribed before connecting and held until the first listener.
 */
function eventsOf(client: Client): { on(l: (e: CliEvent) => void): () => void } {
  const listeners = new Set<(e: CliEvent) => void>();
  let held: CliEvent[] | undefined = [];
  const emit = (e: CliEvent) => {
    if (held) held.push(e);
    else for (const l of listeners) l(e);
  };
  client.presence.on('resource', (e) => {
    if (e.jid === client.jid) return;
    const p = e.presence;
    emit({
      event: 'presence',
      from: e.jid,
      type: p ? 'available' : 'unavailable',
      show: p?.show,
      status: p ? p.status : undefined,
      priority: p?.priority,
    });
  });
  const r = client.roster;
  r.on('request', (q) =>
    emit({ event: 'subscription', from: q.from, type: 'subscribe', status: q.status, nick: q.nick }),
  );
  for (const type of ['subscribed', 'unsubscribe', 'unsubscribed'] as const) {
    r.on(type, (e) =>
      emit({ event: 'subscription', from: e.from, type, status: undefined, nick: undefined }),
    );
  }
  let loaded = false;
  r.on('loaded', () => {
    loaded = true;
  });
  const change =
    (kind: 'added' | 'updated' | 'removed') =>
    ({ item }: { item: LibRosterItem }) => {
      if (!loaded) return;
      const e = entry(item);
      emit({
        event: 'roster',
        change: kind,
        from: undefined,
        action: undefined,
        jid: e.jid,
        name: e.name,
        groups: e.groups,
        subscription: e.subscription,
        ask: e.ask,
      });
    };
  r.on('added', change('added'));
  r.on('updated', change('updated'));
  r.on('removed', change('removed'));
  const m = client.messages;
  m.on('receipt', (e) => emit({ event: 'receipt', from: e.from, id: e.id }));
  m.on('chatState', (e) => emit({ event: 'chatstate', from: e.from, state: e.state, thread: e.thread }));
  m.on('invitation', (e) =>
    emit({
      event: 'invite',
      kind: 'direct',
      from: e.from,
      room: e.invitation.room,
      reason: e.invitation.reason,
      password: e.invitation.password,
      thread: e.invitation.thread,
    }),
  );
  // Mediated invitations come through the room (client.muc); direct ones are above already.
  client.muc.on('invite', (i) => {
    if (i.kind !== 'mediated') return;
    emit({
      event: 'invite',
      kind: 'mediated',
      // A semi-anonymous room may hide the inviter: then the room is who invites.
      from: i.from ?? i.room,
      room: i.room,
      reason: i.reason,
      password: i.password,
      thread: i.thread,
    });
  });
  m.on('rosterExchange', (e) => {
    for (const it of e.items) {
      emit({
        event: 'roster',
        change: 'suggested',
        from: e.from,
        action: it.action,
        jid: it.jid,
        name: it.name,
        groups: [...it.groups],
        subscription: undefined,
        ask: undefined,
      });
    }
  });
  return {
    on(l) {
      listeners.add(l);
      const backlog = held;
      held = undefined;
      for (const e of backlog ?? []) l(e);
      return () => listeners.delete(l);
    },
  };
}

/** A ping to our server; any answer (a result or an error reply) proves the round trip. */
async function roundTrip(client: Client, domain: string): Promise<void> {
  try {
    await client.iq({ type: 'get', to: domain, payload: xml('ping', { xmlns: NS_PING }) });
  } catch (err) {
    if (!(err instanceof StanzaError)) throw err;
  }
}

/** The roster is loaded after login; a server that never answers fails like any request would. */
async function rosterReady(client: Client): Promise<void> {
  await Promise.race([
    client.roster.ready(),
    new Promise<never>((_, reject) => {
      const t = setTimeout(
        () => reject(new ConfabError('ERR_TIMEOUT', 'The server did not send the roster in 30 s')),
        30_000,
      );
      t.unref?.();
    }),
  ]);
}

type LibRosterItem = ReturnType<Client['roster']['items']> extends IterableIterator<infer T> ? T : never;

function entry(it: LibRosterItem): RosterEntry {
  return {
    jid: it.jid,
    name: it.name,
    groups: [...it.groups],
    subscription: it.subscription,
    ask: it.pending ? 'subscribe' : undefined,
    approved: it.approved,
  };
}

function rosterOf(client: Client, domain: string): CliRoster {
  return {
    async list() {
      await rosterReady(client);
      return [...client.roster.items()].map(entry);
    },
    async get(j) {
      await rosterReady(client);
      const it = client.roster.get(j);
      return it ? entry(it) : undefined;
    },
    async set(j, item) {
      await rosterReady(client);
      const o: { name?: string | undefined; groups?: string[] | undefined } = {};
      if (item.name !== undefined) o.name = item.name;
      if (item.groups !== undefined) o.groups = item.groups;
      await client.roster.set(j, o);
    },
    async remove(j) {
      await client.roster.remove(j);
    },
    async subscription(kind, j, status) {
      const r = client.roster;
      if (kind === 'subscribe') await r.subscribe(j, { status });
      else if (kind === 'unsubscribe') await r.unsubscribe(j);
      else if (kind === 'approve') await r.approve(j);
      else await r.deny(j);
      // Presence has no reply: the ping after it tells us the server has it.
      await roundTrip(client, domain);
    },
    async settlePresence() {
      await roundTrip(client, domain);
      const QUIET_MS = 300;
      const CAP_MS = 2_000;
      await new Promise<void>((resolve) => {
        let quiet: ReturnType<typeof setTimeout>;
        const done = () => {
          clearTimeout(quiet);
          clearTimeout(cap);
          off();
          resolve();
        };
        const cap = setTimeout(done, CAP_MS);
        const off = client.presence.on('resource', () => {
          clearTimeout(quiet);
          quiet = setTimeout(done, QUIET_MS);
        });
        quiet = setTimeout(done, QUIET_MS);
      });
    },
    status(j): ContactStatus | undefined {
      const c = client.presence.contact(j);
      if (!c) return undefined;
      return {
        available: c.available,
        show: c.best?.show,
        status: c.best?.status,
        resources: c.resources.length,
      };
    },
    async sendItems(to, items) {
      const sent = await client.messages.send({
        to,
        type: 'normal',
        rosterItems: items.map((i) => ({ jid: i.jid, name: i.name, groups: i.groups, action: 'add' })),
      });
      await sent.confirmed;
      return { id: sent.id };
    },
  };
}

function presenceOf(client: Client): CliPresence {
  return {
    async set(p) {
      await client.presence.set({ show: p.show, status: p.status, priority: p.priority });
    },
    async invisible() {
      await client.presence.invisible();
    },
  };
}

const NS_AVATAR_METADATA = 'urn:xmpp:avatar:metadata';

type LibVCard = NonNullable<Awaited<ReturnType<Client['vcard']['get']>>>;

/** The library's vCard in the CLI's `--json` words: lower-cased XEP-0054 element names. */
export function vcardFields(card: LibVCard): VCardFields {
  const lower = (flags: readonly string[]) => flags.map((f) => f.toLowerCase());
  const out: VCardFields = {
    fn: card.fullName,
    nickname: card.nickname,
    url: card.url,
    bday: card.birthday,
    title: card.title,
    role: card.role,
    desc: card.description,
    jabberid: card.jabberId,
  };
  if (card.name) {
    const n = card.name;
    out.n = { family: n.family, given: n.given, middle: n.middle, prefix: n.prefix, suffix: n.suffix };
  }
  if (card.org) out.org = { orgname: card.org.name, orgunit: card.org.unit };
  if (card.photo) out.photo = { type: card.photo.type, binval: card.photo.binval, extval: card.photo.extval };
  if (card.email?.length) out.email = card.email.map((e) => ({ userid: e.userid, flags: lower(e.flags) }));
  if (card.tel?.length) out.tel = card.tel.map((t) => ({ number: t.number, flags: lower(t.flags) }));
  if (card.address?.length) {
    out.adr = card.address.map((a) => ({
      pobox: a.pobox,
      extadd: a.extadd,
      street: a.street,
      locality: a.locality,
      region: a.region,
      pcode: a.pcode,
      ctry: a.country,
      flags: lower(a.flags),
    }));
  }
  return dropEmpty(out) as VCardFields;
}

function dropEmpty(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // Prosody sends an empty <N/> (and the like) with every vCard: nothing to show.
      const inner = dropEmpty(v as Record<string, unknown>);
      if (Object.keys(inner).length > 0) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

/**
 * Prosody 0.12 (mod_vcard_legacy) stores a vcard-temp DESC as vCard4 `note` and hands it back as
 * `<NOTE/>`, which XEP-0054 does not define: read it as the DESC it was, so it shows and survives
 * the next update (sent back as NOTE it would be dropped).
 */
function withDesc(card: LibVCard): LibVCard {
  const note = card.extra?.find((e) => e.name === 'NOTE' && e.xmlns === 'vcard-temp');
  if (!note || card.description !== undefined) return card;
  const text = note.text();
  return {
    ...card,
    description: text.trim() === '' ? undefined : text,
    extra: card.extra?.filter((e) => e !== note),
  };
}

/** '' means "remove the field". */
const orNone = (v: string | undefined): string | undefined => (v === '' ? undefined : v);

function profileOf(client: Client): CliProfile {
  const own = () => bareOf(client.jid);
  return {
    async vcard(j) {
      const card = await client.vcard.get(j);
      return card ? vcardFields(withDesc(card)) : undefined;
    },
    async updateVCard(p) {
      // get, merge, set (as vcard.update does), reading Prosody's NOTE as the DESC it was stored as.
      const card: { -readonly [K in keyof LibVCard]: LibVCard[K] } = withDesc(
        (await client.vcard.get()) ?? {},
      );
      card.fullName = p.fn;
      if (p.nickname !== undefined) card.nickname = orNone(p.nickname);
      if (p.url !== undefined) card.url = orNone(p.url);
      if (p.bday !== undefined) card.birthday = orNone(p.bday);
      if (p.desc !== undefined) card.description = orNone(p.desc);
      if (p.email !== undefined)
        card.email = p.email === '' ? undefined : [{ userid: p.email, flags: ['INTERNET'] }];
      if (p.photo !== undefined) {
        card.photo = { type: p.photo.type, binval: Buffer.from(p.photo.bytes).toString('base64') };
      }
      await client.vcard.set(card);
      return vcardFields(card);
    },
    async nick() {
      try {
        return await client.nick.fetch(own());
      } catch (err) {
        if (err instanceof StanzaError && err.condition === 'item-not-found') return undefined;
        throw err;
      }
    },
    async publishNick(nick) {
      await client.nick.publish(nick);
    },
    async avatar(): Promise<AvatarMeta | undefined> {
      let items: Awaited<ReturnType<Client['pep']['items']>>;
      try {
        items = await client.pep.items(own(), NS_AVATAR_METADATA, { max: 1 });
      } catch (err) {
        if (err instanceof StanzaError && err.condition === 'item-not-found') return undefined;
        throw err;
      }
      const info = items[0]?.payload?.getChildren('info', NS_AVATAR_METADATA)[0];
      const id = info?.attr('id');
      if (!info || !id) return undefined;
      const num = (name: string) => {
        const v = info.attr(name);
        return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
      };
      return {
        id,
        type: info.attr('type') ?? 'application/octet-stream',
        bytes: num('bytes') ?? 0,
        width: num('width'),
        height: num('height'),
      };
    },
    publishAvatar(bytes, meta) {
      return client.avatar.publish(bytes, meta);
    },
  };
}

function accountDataOf(client: Client, domain: string): CliAccountData {
  return {
    domain,
    blocklist: () => client.blocking.list(),
    async block(jids) {
      await client.blocking.block(jids);
    },
    async unblock(jids) {
      await client.blocking.unblock(jids === 'all' ? undefined : jids);
    },
    buddiesOnly: () => client.buddiesOnly.load(),
    setBuddiesOnly: (on) => client.buddiesOnly.set(on),
    async privateSet(namespace, text) {
      await client.private.set(parseRootIn(namespace, text, 'private set'));
    },
    async privateGet(namespace, name) {
      const el = await client.private.get(name, namespace);
      return el ? serialize(el) : undefined;
    },
    async discoInfo(to, node): Promise<DiscoInfoView> {
      const info = await client.disco.info(to ?? domain, node);
      return {
        identities: info.identities.map((i) => ({
          category: i.category,
          type: i.type,
          name: i.name,
          lang: i.lang,
        })),
        features: [...info.features],
        forms: info.extensions.map((f) => {
          const fields: Record<string, string[]> = {};
          for (const fl of f.fields) fields[fl.var] = [...fl.values];
          return { type: fields.FORM_TYPE?.[0], fields };
        }),
      };
    },
    async discoItems(to, node) {
      const r = await client.disco.items(to ?? domain, node);
      return r.items.map((i) => ({ jid: i.jid, node: i.node, name: i.name }));
    },
  };
}

function bareOf(full: string | undefined): string {
  if (!full) throw new ConfabError('ERR_NOT_CONNECTED', 'not logged in');
  const slash = full.indexOf('/');
  return slash === -1 ? full : full.slice(0, slash);
}
