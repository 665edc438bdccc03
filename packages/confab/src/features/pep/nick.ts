/**
 * User nickname: XEP-0172 "User Nickname" v1.1 over PEP (section 4.5 publish,
 * 4.6 notifications). Keeps what each contact calls themselves, fed only by PEP
 * events that passed the PEP origin rule (pep.ts), so nobody can rename us or a
 * contact but the account itself.
 */
import { Emitter } from '../../events.ts';
import { type BareJid, bare, tryJid } from '../../jid.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import { buildNick, NS, parseNick } from './codec.ts';
import type { Pep } from './pep.ts';

export interface NickEvents {
  /** A contact (or we, `own`) published a nickname; `nick` undefined means they removed it. */
  nick: { jid: BareJid; own: boolean; nick: string | undefined };
}

/**
 * @example
 * const nicks = new Nicknames({ pep });
 * nicks.on('nick', ({ jid, nick }) => roster.rename(jid, nick));
 * await nicks.publish('Romeo');
 */
export class Nicknames {
  static readonly feature = 'nick';
  static readonly dependencies = ['pep'] as const;
  readonly #pep: Pep;
  readonly #nicks = new Map<BareJid, string>();
  readonly #events = new Emitter<NickEvents>();
  readonly #teardown: Array<() => void> = [];

  constructor(o: { pep: Pep; notify?: boolean | undefined }) {
    this.#pep = o.pep;
    if (o.notify !== false) this.#teardown.push(this.#pep.interest(NS.nick));
    this.#teardown.push(
      this.#pep.on('item', (e) => {
        if (e.node !== NS.nick) return;
        const nick = parseNick(e.payload) || undefined;
        this.#set(e.from, e.own, nick);
      }),
      this.#pep.on('retract', (e) => {
        if (e.node === NS.nick) this.#set(e.from, e.own, undefined);
      }),
      this.#pep.on('purge', (e) => {
        if (e.node === NS.nick) this.#set(e.from, e.own, undefined);
      }),
    );
  }

  /** Publish our nickname (an empty string removes it). */
  async publish(nick: string, options?: IqRequestOptions): Promise<void> {
    await this.#pep.publish(NS.nick, buildNick(nick), { id: 'current', ...options });
  }

  /** The nickname an account published, as far as notifications told us. */
  of(jid: string): string | undefined {
    const j = tryJid(jid);
    return j ? this.#nicks.get(bare(j)) : undefined;
  }

  /** Ask the account's PEP service directly (no notification needed). */
  async fetch(jid: string, options?: IqRequestOptions): Promise<string | undefined> {
    const [item] = await this.#pep.items(jid, NS.nick, { max: 1, ...options });
    return parseNick(item?.payload) || undefined;
  }

  on<K extends keyof NickEvents>(event: K, listener: (e: NickEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }

  #set(jid: BareJid, own: boolean, nick: string | undefined): void {
    if (nick === undefined) this.#nicks.delete(jid);
    else this.#nicks.set(jid, nick);
    this.#events.emit('nick', { jid, own, nick });
  }
}
