/**
 * What the account tells about itself (issue 7): `confab vcard [JID]`, `vcard set` (XEP-0054
 * v1.3.0 vcard-temp), `confab nick [NAME]` (XEP-0172 v1.1 over PEP), `confab avatar [FILE]`
 * (XEP-0084 v1.1.4: data node, then metadata; the id is the image's SHA-1), and `confab filter
 * buddies|everyone` (the buddies-only switch, kept in XEP-0049 private storage).
 *
 * "Nothing there" (no vCard, no nickname, no avatar) is exit 1 with a note on stderr, so a script
 * can tell it from an answer; `--json` then prints nothing.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { CliError, EXIT } from '../exit.ts';
import { remote } from '../output.ts';
import type { VCardFields } from '../session.ts';
import type { avatar, filter, nick, vcard, vcardSet } from '../table.ts';
import { checkJid, withSession } from './common.ts';

/** Plain labels for the vCard fields, in the order they are printed. */
const LABELS: [string, string][] = [
  ['fn', 'Full name'],
  ['nickname', 'Nickname'],
  ['n', 'Name'],
  ['email', 'Email'],
  ['tel', 'Phone'],
  ['url', 'URL'],
  ['bday', 'Birthday'],
  ['org', 'Organisation'],
  ['title', 'Title'],
  ['role', 'Role'],
  ['adr', 'Address'],
  ['jabberid', 'Jabber ID'],
  ['desc', 'Note'],
  ['photo', 'Photo'],
];

function partsText(o: Record<string, unknown>): string {
  return Object.entries(o)
    .filter(([k, v]) => k !== 'flags' && typeof v === 'string')
    .map(([, v]) => remote(v as string))
    .join(', ');
}

/** The plain lines of a vCard: `Label: value`, remote text sanitized. */
export function vcardLines(card: VCardFields): string[] {
  const out: string[] = [];
  for (const [key, label] of LABELS) {
    const v = card[key];
    if (v === undefined) continue;
    if (key === 'photo') {
      const p = v as { type?: string; binval?: string; extval?: string };
      const size = p.binval ? `${Buffer.from(p.binval, 'base64').length} bytes` : undefined;
      out.push(
        `${label}: ${[p.type && remote(p.type), size, p.extval && remote(p.extval)].filter(Boolean).join(', ')}`,
      );
    } else if (typeof v === 'string') {
      out.push(`${label}: ${remote(v, true).replace(/\n/g, '\n  ')}`);
    } else if (Array.isArray(v)) {
      for (const e of v as Record<string, unknown>[]) {
        const flags = (e.flags as string[] | undefined)?.filter((f) => f !== 'internet') ?? [];
        out.push(`${label}: ${partsText(e)}${flags.length ? ` (${flags.join(', ')})` : ''}`);
      }
    } else {
      out.push(`${label}: ${partsText(v as Record<string, unknown>)}`);
    }
  }
  return out;
}

export async function runVcard(ctx: CommandContext<typeof vcard>): Promise<number> {
  const who = ctx.args.JID === undefined ? undefined : checkJid(ctx.args.JID, 'vcard');
  return withSession(ctx, {}, async (s) => {
    const card = await s.profile.vcard(who);
    const owner = who ?? s.jid.replace(/\/.*/, '');
    if (!card) throw new CliError(EXIT.failure, `${owner} has no vCard`);
    if (ctx.out.json) ctx.out.event('result', { command: 'vcard', jid: owner, ...card });
    else for (const l of vcardLines(card)) ctx.out.line(l);
    return EXIT.ok;
  });
}

/** A PNG, JPEG or GIF by its first bytes; undefined otherwise. */
export function imageType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | 'image/gif' | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'image/gif';
  return undefined;
}

/** Width and height from a PNG's IHDR or a JPEG's SOF marker; undefined when not found. */
export function imageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = imageType(bytes);
  if (type === 'image/png' && bytes.length >= 24) {
    return { width: dv.getUint32(16), height: dv.getUint32(20) };
  }
  if (type === 'image/jpeg') {
    let i = 2;
    while (i + 9 < bytes.length) {
      if (bytes[i] !== 0xff) return undefined;
      const marker = bytes[i + 1]!;
      if (marker === 0xff) {
        i++;
        continue;
      }
      const len = dv.getUint16(i + 2);
      // SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        return { height: dv.getUint16(i + 5), width: dv.getUint16(i + 7) };
      }
      i += 2 + len;
    }
  }
  return undefined;
}

async function readImage(file: string, command: string): Promise<{ bytes: Uint8Array; type: string }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (err) {
    throw new UsageError(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      command,
    );
  }
  const type = imageType(bytes);
  if (!type || (command === 'avatar' && type === 'image/gif')) {
    throw new UsageError(
      `${file} is not a ${command === 'avatar' ? 'PNG or JPEG' : 'PNG, JPEG or GIF'} image`,
      command,
    );
  }
  return { bytes, type };
}

export async function runVcardSet(ctx: CommandContext<typeof vcardSet>): Promise<number> {
  const o = ctx.options;
  if (o.fn === undefined || o.fn.trim() === '') throw new UsageError('--fn NAME is required', 'vcard set');
  if (o.birthday !== undefined && o.birthday !== '') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(o.birthday);
    const d = m ? new Date(`${o.birthday}T00:00:00Z`) : undefined;
    if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== o.birthday) {
      throw new UsageError(`--birthday wants a date YYYY-MM-DD, not '${o.birthday}'`, 'vcard set');
    }
  }
  const photo = o.photo === undefined ? undefined : await readImage(o.photo, 'vcard set');
  return withSession(ctx, {}, async (s) => {
    const card = await s.profile.updateVCard({
      fn: o.fn!,
      nickname: o.nickname,
      email: o.email,
      url: o.url,
      bday: o.birthday,
      desc: o.note,
      photo,
    });
    if (ctx.out.json) ctx.out.event('result', { command: 'vcard set', ...card });
    return EXIT.ok;
  });
}

export async function runNick(ctx: CommandContext<typeof nick>): Promise<number> {
  const name = ctx.args.NAME;
  return withSession(ctx, {}, async (s) => {
    if (name !== undefined) {
      await s.profile.publishNick(name);
      if (ctx.out.json) ctx.out.event('result', { command: 'nick', nick: name === '' ? undefined : name });
      return EXIT.ok;
    }
    const current = await s.profile.nick();
    if (current === undefined) throw new CliError(EXIT.failure, 'no nickname published');
    if (ctx.out.json) ctx.out.event('result', { command: 'nick', nick: current });
    else ctx.out.line(remote(current));
    return EXIT.ok;
  });
}

export async function runAvatar(ctx: CommandContext<typeof avatar>): Promise<number> {
  const file = ctx.args.FILE;
  const image = file === undefined ? undefined : await readImage(file, 'avatar');
  return withSession(ctx, {}, async (s) => {
    if (image) {
      const size = imageSize(image.bytes);
      const meta = { type: image.type, ...size };
      const id = await s.profile.publishAvatar(image.bytes, meta);
      if (ctx.out.json) {
        ctx.out.event('result', {
          command: 'avatar',
          id,
          type: image.type,
          bytes: image.bytes.length,
          ...size,
        });
      }
      return EXIT.ok;
    }
    const info = await s.profile.avatar();
    if (!info) throw new CliError(EXIT.failure, 'no avatar published');
    if (ctx.out.json) ctx.out.event('result', { command: 'avatar', ...info });
    else {
      const dims = info.width && info.height ? `, ${info.width}x${info.height}` : '';
      ctx.out.line(`${remote(info.id)} ${remote(info.type)}, ${info.bytes} bytes${dims}`);
    }
    return EXIT.ok;
  });
}

export async function runFilter(ctx: CommandContext<typeof filter>): Promise<number> {
  const mode = ctx.args.MODE;
  if (mode !== undefined && mode !== 'buddies' && mode !== 'everyone') {
    throw new UsageError(`MODE must be buddies or everyone, not '${mode}'`, 'filter');
  }
  return withSession(ctx, {}, async (s) => {
    let on: boolean;
    if (mode === undefined) on = await s.account.buddiesOnly();
    else {
      on = mode === 'buddies';
      await s.account.setBuddiesOnly(on);
    }
    const shown = on ? 'buddies' : 'everyone';
    if (ctx.out.json) ctx.out.event('result', { command: 'filter', mode: shown });
    else if (mode === undefined) ctx.out.line(shown);
    return EXIT.ok;
  });
}
