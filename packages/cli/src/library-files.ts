/**
 * Adapter from the library to the CLI's view of files: HTTP upload (XEP-0363), out-of-band offers
 * (XEP-0066), downloads. The only file of the CLI that knows `client.files` and the Node helpers
 * (`fileSource`, `downloadFile`).
 */
import { type Client, downloadFile, fileSource, jid as toJid } from 'confab';
import type { CliFiles, CliOffer, FileProgress } from './session-files.ts';

export function filesOf(client: Client, _domain: string): CliFiles {
  return {
    async upload(path, o = {}) {
      const r = await client.files.upload(await fileSource(path), {
        onProgress: o.onProgress,
        signal: o.signal,
      });
      return { url: r.get, name: r.name, size: r.size, type: r.type };
    },

    async sendLink(to, url, desc) {
      const sent = await client.messages.send({ to, type: 'chat', body: url, oob: [{ url, desc }] });
      await sent.confirmed;
      return { id: sent.id };
    },

    resolveResource(j) {
      const parsed = toJid(j);
      if (parsed.includes('/')) return parsed;
      return client.presence.contact(parsed)?.best?.jid;
    },

    async offer(path, to, o) {
      const source = await fileSource(path);
      const r = await client.files.offerFile(to, source, {
        bind: o.bind,
        timeout: o.wait * 1000,
        desc: o.desc,
        onProgress: o.onProgress,
        signal: o.signal,
      });
      return { url: r.url, size: source.size };
    },

    onOffer(listener) {
      return client.files.on('offer', (offer) => {
        const cli: CliOffer = {
          from: offer.from,
          url: offer.url,
          desc: offer.desc,
          async accept(dir: string, onProgress?: (p: FileProgress) => void) {
            const r = await offer.accept({ dir, onProgress });
            return { path: r.path ?? '', size: r.size };
          },
          reject(condition?: string) {
            offer.reject(condition);
          },
        };
        listener(cli);
      });
    },
  };
}

/** `confab download`: no session, only HTTP (the account's --ca applies to https). */
export async function downloadUrl(
  url: string,
  o: {
    output?: string | undefined;
    dir: string;
    ca?: string | undefined;
    onProgress?: ((p: FileProgress) => void) | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<{ path: string; size: number; type: string | undefined }> {
  const r = await downloadFile(url, {
    ...(o.output !== undefined ? { path: o.output } : { dir: o.dir }),
    tls: o.ca !== undefined ? { caFile: o.ca } : undefined,
    onProgress: o.onProgress,
    signal: o.signal,
  });
  return { path: r.path, size: r.size, type: r.type };
}
