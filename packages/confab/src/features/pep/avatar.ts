/**
 * User avatars: XEP-0084 "User Avatar" v1.1.4 over PEP. Publish: data node first,
 * then metadata (4.1, 4.2: the item id is the SHA-1 of the image bytes, lowercase
 * hex). Receive: metadata notifications (`urn:xmpp:avatar:metadata+notify`) tell
 * which image is current; `fetch` reads the data node and checks the bytes hash
 * to the id they were announced with, so a service cannot hand us other bytes
 * under a known id (and a cache keyed by id stays correct).
 */
import { ConfabError } from '../../errors.ts';
import { Emitter } from '../../events.ts';
import { type BareJid, bare, tryJid } from '../../jid.ts';
import type { IqRequestOptions } from '../../session/iq.ts';
import { fromBase64, toBase64 } from '../../util/base64.ts';
import {
  type AvatarInfo,
  buildAvatarData,
  buildAvatarMetadata,
  NS,
  parseAvatarData,
  parseAvatarMetadata,
} from './codec.ts';
import type { Pep } from './pep.ts';

export interface AvatarEvents {
  /** An account's current avatar changed; `info` undefined: it has none now. */
  avatar: { jid: BareJid; own: boolean; info: AvatarInfo | undefined; all: AvatarInfo[] };
}

/** SHA-1 of bytes as lowercase hex (the XEP-0084 item id). */
export async function sha1Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-1', bytes as BufferSource));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * @example
 * const avatars = new Avatars({ pep });
 * await avatars.publish(pngBytes, { type: 'image/png', width: 64, height: 64 });
 * avatars.on('avatar', async ({ jid, info }) => { if (info) show(jid, await avatars.fetch(jid, info.id)) });
 */
export class Avatars {
  static readonly feature = 'avatar';
  static readonly dependencies = ['pep'] as const;
  readonly #pep: Pep;
  readonly #current = new Map<BareJid, AvatarInfo>();
  readonly #events = new Emitter<AvatarEvents>();
  readonly #teardown: Array<() => void> = [];

  constructor(o: { pep: Pep; notify?: boolean | undefined }) {
    this.#pep = o.pep;
    if (o.notify !== false) this.#teardown.push(this.#pep.interest(NS.avatarMetadata));
    this.#teardown.push(
      this.#pep.on('item', (e) => {
        if (e.node !== NS.avatarMetadata) return;
        const all = parseAvatarMetadata(e.payload);
        if (all === undefined) return;
        // Prefer the PNG (every client must publish one, 4.2.1), else the first.
        const info = all.find((i) => i.type === 'image/png' && i.url === undefined) ?? all[0];
        if (info) this.#current.set(e.from, info);
        else this.#current.delete(e.from);
        this.#events.emit('avatar', { jid: e.from, own: e.own, info, all });
      }),
    );
  }

  /** Publish an image as our avatar (data node, then metadata). Resolves with its id. */
  async publish(
    bytes: Uint8Array,
    meta: { type: string; width?: number | undefined; height?: number | undefined },
    options?: IqRequestOptions,
  ): Promise<string> {
    const id = await sha1Hex(bytes);
    await this.#pep.publish(NS.avatarData, buildAvatarData(toBase64(bytes)), { id, ...options });
    const info: AvatarInfo = {
      id,
      bytes: bytes.length,
      type: meta.type,
      width: meta.width,
      height: meta.height,
    };
    await this.#pep.publish(NS.avatarMetadata, buildAvatarMetadata([info]), { id, ...options });
    return id;
  }

  /** Switch our avatar off (empty metadata, 4.4). */
  async disable(options?: IqRequestOptions): Promise<void> {
    await this.#pep.publish(NS.avatarMetadata, buildAvatarMetadata([]), { id: 'current', ...options });
  }

  /** The current avatar of an account, as notifications told us. */
  of(jid: string): AvatarInfo | undefined {
    const j = tryJid(jid);
    return j ? this.#current.get(bare(j)) : undefined;
  }

  /** The image bytes with this id from the account's data node, checked against the id. */
  async fetch(jid: string, id: string, options?: IqRequestOptions): Promise<Uint8Array> {
    const [item] = await this.#pep.items(jid, NS.avatarData, { ids: [id], ...options });
    const b64 = parseAvatarData(item?.payload);
    if (b64 === undefined) throw new ConfabError('ERR_BAD_REPLY', `No avatar data ${id} at ${jid}`);
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(b64);
    } catch (cause) {
      throw new ConfabError('ERR_BAD_REPLY', `The avatar data of ${jid} is not base64`, { cause });
    }
    if ((await sha1Hex(bytes)) !== id.toLowerCase()) {
      throw new ConfabError('ERR_BAD_REPLY', `The avatar data of ${jid} does not hash to its id ${id}`);
    }
    return bytes;
  }

  on<K extends keyof AvatarEvents>(event: K, listener: (e: AvatarEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  destroy(): void {
    for (const t of this.#teardown.splice(0)) t();
    this.#events.clear();
  }
}
