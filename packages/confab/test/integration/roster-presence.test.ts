import { test } from 'node:test';
import { caOf, ejabberd, freshAccount, prosody } from '../../../../testbed/harness.ts';
import { createClient } from '../../src/index.ts';
import { serialize } from '../../src/xml/serializer.ts';
import { xml } from '../../src/xml/element.ts';

for (const s of [prosody, ejabberd]) {
  test('probe ' + s.name, async () => {
    const server = s();
    const a = await freshAccount(server);
    const c = createClient({ jid: a.jid, password: a.password, host: server.host, port: server.ports.c2s, tls: { ca: caOf(server) }, reconnect: false });
    await c.connect();
    console.log(server.name, serialize(c.streamFeatures!));
    const r = await c.iq({ type: 'get', to: 'localhost', payload: xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }) });
    console.log(serialize(r));
    const p = new Promise((res) => c.on('stanza', (el) => { if (el.name === 'presence') { console.log('IN', serialize(el)); res(undefined); } }));
    await c.send(xml('presence', { to: 'nobody@nonexistent.invalid' }));
    await p;
    await c.disconnect();
  });
}
