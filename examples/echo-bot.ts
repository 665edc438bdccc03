// The echo bot of DESIGN.md ("The hello world it must allow"): five statements.
// Run: XMPP_JID=bot@example.org XMPP_PASSWORD=... node --import tsx examples/echo-bot.ts
// XMPP_HOST / XMPP_PORT / XMPP_CA_FILE are for servers without SRV records or with a private CA
// (the test bed); left unset, confab looks up SRV records and trusts the system's CAs.
import { createClient } from 'confab';

const client = createClient({
  jid: process.env.XMPP_JID ?? 'bot@example.org',
  password: process.env.XMPP_PASSWORD,
  host: process.env.XMPP_HOST,
  port: process.env.XMPP_PORT ? Number(process.env.XMPP_PORT) : undefined,
  tls: { caFile: process.env.XMPP_CA_FILE },
});
client.on('message', (msg) => {
  if (msg.body) client.messages.send({ to: msg.from, body: `echo: ${msg.body}`, thread: msg.thread });
});
await client.connect();
