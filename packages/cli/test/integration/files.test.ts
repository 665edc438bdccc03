// End-to-end tests of the file commands (issue 7, "Files"): the real bin against Prosody and
// ejabberd. `upload` (with --to: the message Conversations/Dino show inline) and `download`
// round trip with equal SHA-256; a file over the service's limit refused before sending (exit
// 1); `offer` to `listen --accept-oob` (a contact's offer fetched and acknowledged: exit 0, a
// stranger's refused: exit 1; --from lets one JID in), offers refused without --accept-oob, no
// answer (exit 5), an offline contact (exit 1); the minimal Prosody has no upload service.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  type Account,
  caOf,
  ejabberd,
  freshAccount,
  prosody,
  prosodyMinimal,
  type ServerInfo,
} from '../../../../testbed/harness.ts';
import { type Client, createClient } from '../../../confab/src/index.ts';
import { build, confab, jsonLines, startAs } from './helpers.ts';

const MB = 1024 * 1024;
let dir: string;
let file: string;
let sparse: string;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

before(async () => {
  await build();
  dir = await mkdtemp(join(tmpdir(), 'confab-cli-files-'));
  file = join(dir, 'report.bin');
  await writeFile(file, randomBytes(3 * MB));
  sparse = join(dir, 'huge.iso');
  const fh = await open(sparse, 'w');
  await fh.truncate(100 * MB);
  await fh.close();
});

function clientOf(s: ServerInfo, a: Account): Client {
  const c = createClient({
    jid: a.jid,
    password: a.password,
    host: s.host,
    port: s.ports.c2s,
    tls: { ca: caOf(s) },
    reconnect: false,
    presence: { autoAway: false },
  });
  c.on('error', () => {});
  return c;
}

/** A and B see each other's presence (both subscriptions), set up with library clients. */
async function mutual(s: ServerInfo, a: Account, b: Account): Promise<void> {
  const ca = clientOf(s, a);
  const cb = clientOf(s, b);
  await Promise.all([ca.connect(), cb.connect()]);
  const approveAll = (c: Client) => c.roster.on('request', (r) => void r.approve());
  approveAll(ca);
  approveAll(cb);
  const both = (c: Client, other: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (c.roster.get(other)?.subscription === 'both') resolve();
      };
      c.roster.on('added', check);
      c.roster.on('updated', check);
      check();
    });
  const done = Promise.all([both(ca, b.jid), both(cb, a.jid)]);
  await ca.roster.subscribe(b.jid);
  await cb.roster.subscribe(a.jid);
  await done;
  await Promise.all([ca.disconnect(), cb.disconnect()]);
}

/** Resolves once `watcher` sees `full` available. */
function seen(watcher: Client, full: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (watcher.presence.contact(full.split('/')[0]!)?.resources.some((r) => r.jid === full)) resolve();
    };
    watcher.presence.on('resource', check);
    check();
  });
}

for (const server of [
  { name: 'Prosody', info: prosody },
  { name: 'ejabberd', info: ejabberd },
]) {
  describe(`confab upload, offer, download on ${server.name}`, () => {
    it('upload --to sends the URL inline; download gets the same bytes; limits and bad URLs', async () => {
      const s = server.info();
      const [a, b] = await Promise.all([freshAccount(s, 'cupa'), freshAccount(s, 'cupb')]);
      const cb = clientOf(s, b);
      await cb.connect();
      try {
        const got = new Promise<{
          body?: string | undefined;
          oob: { url: string; desc?: string | undefined }[];
        }>((resolve) => cb.on('message', (m) => resolve(m)));
        const up = await confab(s, a, ['upload', file, '--to', b.jid, '--desc', 'the report', '--json']);
        assert.equal(up.code, 0, up.stderr);
        const [result] = jsonLines(up.stdout);
        assert.equal(result?.event, 'result');
        assert.equal(result?.command, 'upload');
        assert.equal(result?.size, 3 * MB);
        assert.equal(result?.name, 'report.bin');
        const url = result?.url as string;
        assert.match(url, /^https?:\/\/.*report\.bin$/);
        const m = await got;
        assert.equal(m.body, url);
        assert.deepEqual(
          m.oob.map((o) => ({ url: o.url, desc: o.desc })),
          [{ url, desc: 'the report' }],
        );

        // Plain mode prints only the URL on stdout.
        const plain = await confab(s, a, ['upload', file]);
        assert.equal(plain.code, 0, plain.stderr);
        assert.match(plain.stdout, /^https?:\/\/\S+report\.bin\n$/);

        const out = join(await mkdtemp(join(dir, 'dl-')), 'copy.bin');
        const dl = await confab(s, undefined, ['download', url, '-o', out, '--json']);
        assert.equal(dl.code, 0, dl.stderr);
        assert.deepEqual(
          { ...jsonLines(dl.stdout)[0], type: undefined },
          { event: 'result', command: 'download', url, path: out, size: 3 * MB, type: undefined },
        );
        assert.equal(sha(await readFile(out)), sha(await readFile(file)));
        const again = await confab(s, undefined, ['download', url, '-o', out]);
        assert.equal(again.code, 1, 'an existing file is not overwritten');
        assert.match(again.stderr, /exists; it is not overwritten/);
        const bad = await confab(s, undefined, ['download', 'file:///etc/passwd']);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /only http and https/);

        const big = await confab(s, a, ['upload', sparse]);
        assert.equal(big.code, 1);
        assert.match(
          big.stderr,
          /huge\.iso is 104857600 bytes; the upload service \S+ takes at most 67108864 bytes/,
        );
        assert.equal(big.stdout, '');
      } finally {
        await cb.disconnect();
      }
    });

    it('offer to listen --accept-oob: a contact is accepted (exit 0), a stranger refused (exit 1)', async () => {
      const s = server.info();
      const [a, b, c] = await Promise.all([
        freshAccount(s, 'coffa'),
        freshAccount(s, 'coffb'),
        freshAccount(s, 'coffc'),
      ]);
      await mutual(s, a, b);
      const inbox = await mkdtemp(join(dir, 'inbox-'));
      const watcher = clientOf(s, a);
      await watcher.connect();
      const listen = startAs(s, b, [
        'listen',
        '--accept-oob',
        inbox,
        '--json',
        '--timeout',
        '60',
        '--resource',
        'listen1',
      ]);
      try {
        await seen(watcher, `${b.jid}/listen1`);
        // To the bare JID: the offer goes to the listening resource.
        const off = await confab(s, a, ['offer', file, '--to', b.jid, '--desc', 'the report', '--json']);
        assert.equal(off.code, 0, off.stderr);
        const [r] = jsonLines(off.stdout);
        assert.equal(r?.status, 'accepted');
        assert.equal(r?.to, `${b.jid}/listen1`);
        assert.equal(r?.size, 3 * MB);
        await listen.waitStdout(/"event":"file".*"status":"received"/);
        assert.deepEqual(await readdir(inbox), ['report.bin']);
        assert.equal(sha(await readFile(join(inbox, 'report.bin'))), sha(await readFile(file)));

        const stranger = await confab(s, c, ['offer', file, '--to', `${b.jid}/listen1`]);
        assert.equal(stranger.code, 1);
        assert.match(stranger.stderr, /refused it \[not-acceptable\]/);
        await listen.waitStdout(/"status":"refused"/);

        // A second accepted offer of the same name never overwrites the first.
        const twice = await confab(s, a, ['offer', file, '--to', `${b.jid}/listen1`]);
        assert.equal(twice.code, 0, twice.stderr);
        assert.match(twice.stdout, /accepted/);
        await listen.waitStdout(/report \(1\)\.bin/);

        listen.child.kill('SIGINT');
        const ran = await listen.done;
        assert.equal(ran.code, 0, ran.stderr);
        const files = jsonLines(ran.stdout).filter((e) => e.event === 'file');
        assert.deepEqual(
          files.map((e) => ({
            from: (e.from as string).split('/')[0],
            status: e.status,
            path: e.path,
            size: e.size,
          })),
          [
            { from: a.jid, status: 'received', path: join(inbox, 'report.bin'), size: 3 * MB },
            { from: c.jid, status: 'refused', path: undefined, size: undefined },
            { from: a.jid, status: 'received', path: join(inbox, 'report (1).bin'), size: 3 * MB },
          ],
        );
        assert.equal(files[0]?.desc, 'the report');
        assert.match(files[0]?.url as string, /^http:\/\/127\.0\.0\.1:\d+\/[\w-]{32}\/report\.bin$/);
      } finally {
        listen.child.kill('SIGINT');
        await listen.done;
        await watcher.disconnect();
      }
    });

    it('--from lets one JID in; without --accept-oob offers are refused; no answer exits 5; offline exits 1', async () => {
      const s = server.info();
      const [b, c, d] = await Promise.all([
        freshAccount(s, 'cfrb'),
        freshAccount(s, 'cfrc'),
        freshAccount(s, 'cfrd'),
      ]);
      const inbox = await mkdtemp(join(dir, 'from-'));
      const listen = startAs(s, b, [
        'listen',
        '--accept-oob',
        inbox,
        '--from',
        c.jid,
        '--timeout',
        '60',
        '--resource',
        'l2',
      ]);
      const plain = startAs(s, d, ['listen', '--timeout', '60', '--resource', 'l3']);
      const silent = clientOf(s, d);
      await silent.connect();
      silent.files.on('offer', () => {}); // never answers
      try {
        // A listen is online once a message to its full JID is printed (one sent before it
        // is online may never reach it: pinged until one does).
        const probe = clientOf(s, c);
        await probe.connect();
        const online = async (to: string, l: typeof listen) => {
          let printed = false;
          const waiting = l.waitStdout(/ping/).then(() => {
            printed = true;
          });
          while (!printed) {
            await probe.messages.send({ to, body: 'ping' });
            await Promise.race([waiting, new Promise((r) => setTimeout(r, 500))]);
          }
        };
        await Promise.all([online(`${b.jid}/l2`, listen), online(`${d.jid}/l3`, plain)]);
        await probe.disconnect();

        const ok = await confab(s, c, ['offer', file, '--to', `${b.jid}/l2`]);
        assert.equal(ok.code, 0, ok.stderr);
        await listen.waitStdout(/file from .* saved as .*report\.bin/);
        assert.deepEqual(await readdir(inbox), ['report.bin']);

        const refused = await confab(s, c, ['offer', file, '--to', `${d.jid}/l3`]);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /not-acceptable/);

        const nobody = await confab(s, c, ['offer', file, '--to', silent.jid!, '--wait', '2', '--json']);
        assert.equal(nobody.code, 5, nobody.stderr);
        assert.equal(jsonLines(nobody.stdout)[0]?.status, 'timeout');

        const offline = await confab(s, c, ['offer', file, '--to', `nobody-${Date.now()}@${s.domain}`]);
        assert.equal(offline.code, 1);
        assert.match(offline.stderr, /is not online/);

        const usage = await confab(s, c, ['offer', file]);
        assert.equal(usage.code, 2);
      } finally {
        listen.child.kill('SIGINT');
        plain.child.kill('SIGINT');
        await Promise.all([listen.done, plain.done]);
        await silent.disconnect();
      }
    });
  });
}

describe('confab upload on the minimal Prosody', () => {
  it('says the server has no upload service (exit 1)', async () => {
    const s = prosodyMinimal();
    const a = await freshAccount(s);
    const r = await confab(s, a, ['upload', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /localhost offers no HTTP file upload service \(XEP-0363\)/);
  });
});
