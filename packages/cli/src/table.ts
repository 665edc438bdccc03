/**
 * THE command table (DESIGN.md principle 12). Every command of `confab` is one entry here: name,
 * synopsis, description, arguments, options, examples and handler. `--help`, the interactive
 * `/help`, tab completion and the docs are generated from it; the parser reads it. Names are part
 * of the interface (issue 7): keep them. Handlers import their implementation lazily.
 */
import { type CommandSpec, defineCommand } from './spec.ts';
import { ACCOUNT_COMMANDS } from './table-accounts.ts';
import { CHAT_COMMANDS } from './table-chat.ts';
import { FILE_COMMANDS } from './table-files.ts';
import { HISTORY_COMMANDS } from './table-history.ts';
import { ROOM_COMMANDS } from './table-rooms.ts';

export const send = defineCommand({
  name: 'send',
  summary: 'Send a message and wait until the server has it',
  description:
    'Connects, sends one message to JID, waits until the server has it (the answer to a ping sent ' +
    'after it: a server handles our stanzas in order) and disconnects. Exits 0 only then; 1 when ' +
    'the server refused the message. ' +
    "The text is the remaining words joined by spaces; '-', or no TEXT when stdin is not a " +
    'terminal, reads the text from stdin. With --json it prints one `result` object with the ' +
    'message id. --receipt then waits for the recipient to confirm it (XEP-0184; a client ' +
    'answers only people who may see its presence), up to --wait SECONDS: none in time exits 5. ' +
    '--cc adds recipients: one message with extended addressing (XEP-0033) through the ' +
    "server's multicast service where it offers one, else one message each (--json: `via` and " +
    'the `ids`); --receipt cannot be combined with --cc. --url may be given several times; the ' +
    'n-th --desc describes the n-th --url. --xhtml MARKUP that is not well-formed exits 2.',
  arguments: [
    { name: 'JID', description: 'The recipient (user@domain, or a full JID)', complete: 'jid' },
    {
      name: 'TEXT',
      description: "The message text; '-' reads it from stdin",
      optional: true,
      variadic: true,
      complete: 'none',
    },
  ],
  options: [
    {
      name: 'type',
      type: 'choice',
      choices: ['chat', 'normal', 'headline'],
      default: 'chat',
      description: 'The message type',
    },
    { name: 'subject', type: 'string', value: 'TEXT', description: 'A subject line' },
    { name: 'thread', type: 'string', value: 'ID', description: 'The conversation thread to continue' },
    {
      name: 'receipt',
      type: 'boolean',
      description: 'Ask for a delivery receipt (XEP-0184) and wait for it; none within --wait exits 5',
    },
    {
      name: 'wait',
      type: 'seconds',
      value: 'SECONDS',
      default: 30,
      description: 'How long --receipt waits',
    },
    {
      name: 'expire',
      type: 'seconds',
      value: 'SECONDS',
      description: 'The message expires after SECONDS (XEP-0023)',
    },
    {
      name: 'url',
      type: 'string',
      value: 'URL',
      repeatable: true,
      description: 'Attach a link (XEP-0066 out-of-band data)',
    },
    {
      name: 'desc',
      type: 'string',
      value: 'TEXT',
      repeatable: true,
      description: 'A description of the --url in the same position',
    },
    {
      name: 'xhtml',
      type: 'string',
      value: 'MARKUP',
      description: 'A rich-text version (XEP-0071 XHTML-IM): the inside of an XHTML body',
    },
    {
      name: 'cc',
      type: 'string',
      value: 'JID',
      repeatable: true,
      description: 'Another recipient (XEP-0033)',
    },
  ],
  examples: [
    { command: "confab send juliet@example.org 'Art thou not Romeo?'", description: 'Send one message' },
    {
      command: "confab send --receipt --wait 10 juliet@example.org 'Delivered?'",
      description: 'Exit 0 once Juliet has it, 5 if no receipt comes within 10 s',
    },
    {
      command:
        "confab send romeo@example.net 'The plan' --url https://example.org/plan.pdf --desc 'The plan'",
      description: 'Send a link with a description',
    },
    {
      command: "confab send romeo@example.net 'Be bold' --xhtml '<strong>Be</strong> bold'",
      description: 'With a rich-text version',
    },
    {
      command:
        "confab send romeo@example.net 'Meet at noon' --cc mercutio@example.net --cc benvolio@example.net",
      description: 'One message to three people',
    },
    { command: 'uptime | confab send ops@example.org', description: "Send a command's output" },
    {
      command: "confab --jid bot@example.org send --json romeo@example.net -- '-- signed'",
      description: 'Text that starts with dashes, after --; print the message id as JSON',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/send.ts')).run(ctx);
  },
});

export const listen = defineCommand({
  name: 'listen',
  summary: 'Print incoming messages',
  description:
    'Connects with presence (so messages to the bare JID and offline messages arrive) and prints ' +
    'each incoming message, offline ones with their delay, until interrupted, until --count ' +
    'messages with a body were printed (exit 0), or until --timeout seconds after connecting have ' +
    'passed (exit 0, or 5 when --count was given and not reached). Messages show their type, ' +
    'thread, subject, delay, links (OOB), expiry and rich text (XHTML-IM, as its text; --json ' +
    'gives `xhtml` as the serialized element and `xhtmlText`). Beside messages it prints ' +
    "contacts' presence changes, subscription requests and answers, receipts, chat states " +
    '(typing), group-chat invitations, roster changes and contacts suggested by others (XEP-0144); ' +
    'with --json as `presence`, `subscription`, `receipt`, `chatstate`, `invite` and `roster` ' +
    "events. --show and --status set the presence it holds. It applies 'confab filter buddies'.",
  arguments: [],
  options: [
    { name: 'count', type: 'integer', value: 'N', min: 1, description: 'Stop after N messages with a body' },
    { name: 'timeout', type: 'seconds', value: 'SECONDS', description: 'Stop after SECONDS' },
    {
      name: 'show',
      type: 'choice',
      choices: ['online', 'chat', 'away', 'xa', 'dnd'],
      description: 'The presence to hold (default: online)',
    },
    { name: 'status', type: 'string', value: 'TEXT', description: 'A status message' },
    {
      name: 'accept-oob',
      type: 'string',
      value: 'DIR',
      description:
        'Accept file offers (XEP-0066) from contacts with a subscription, saving them in DIR under a ' +
        'safe name, never overwriting (without it offers are refused)',
    },
    {
      name: 'from',
      type: 'string',
      value: 'JID',
      description: 'With --accept-oob: accept offers only from JID (in the roster or not)',
    },
  ],
  examples: [
    { command: 'confab listen', description: 'Print messages until Ctrl-C' },
    { command: "confab listen --show dnd --status 'Logging'", description: 'Listen while busy' },
    {
      command: 'confab listen --json --count 1 --timeout 30',
      description: 'Wait up to 30 s for one message, print it as JSON; exit 5 if none came',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/listen.ts')).run(ctx);
  },
});

// ---- roster and subscriptions (RFC 6121) ----

const jidArg = (description: string) => ({ name: 'JID', description, complete: 'jid' }) as const;

export const roster = defineCommand({
  name: 'roster',
  summary: 'List the contacts: names, groups, subscription, presence',
  synopsis: '',
  description:
    "Connects (with presence at priority -1, so contacts' presence comes in but no message meant for " +
    'your other clients lands here), prints each contact sorted by JID: name, groups, subscription ' +
    "(none, to: you see theirs, from: they see yours, both; 'asked' while your request waits) and, " +
    'where you see their presence, online/chat/away/xa/dnd with the status text, or offline. ' +
    'With --json one `roster` object per contact: `jid`, `name`, `groups`, `subscription`, `ask`, ' +
    '`approved`, and where you see their presence `available`, `show`, `status`. ' +
    'Subcommands: roster add, roster set, roster remove, roster send.',
  arguments: [],
  options: [],
  examples: [
    { command: 'confab roster', description: 'List the contacts' },
    {
      command: 'confab roster --json',
      description: "One JSON object per contact (jq 'select(.available) | .jid' picks those online)",
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runList(ctx);
  },
});

export const rosterAdd = defineCommand({
  name: 'roster add',
  summary: 'Add a contact and ask to see their presence',
  description:
    'Adds JID to the roster with the name and groups given, then asks to see their presence (a ' +
    'subscription request) unless --no-subscribe. Exits 0 once the server has both.',
  arguments: [jidArg('The contact (user@domain)')],
  options: [
    { name: 'name', type: 'string', value: 'N', description: 'Your name for the contact' },
    { name: 'group', type: 'string', value: 'G', repeatable: true, description: 'A group to put it in' },
    { name: 'no-subscribe', type: 'boolean', description: 'Only add it; send no subscription request' },
    { name: 'status', type: 'string', value: 'TEXT', description: 'A few words sent with the request' },
  ],
  examples: [
    {
      command: 'confab roster add romeo@example.net --name Romeo --group Friends',
      description: 'Add Romeo to Friends and ask to see his presence',
    },
    { command: 'confab roster add bot@example.org --no-subscribe', description: 'Add without asking' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runAdd(ctx);
  },
});

export const rosterSet = defineCommand({
  name: 'roster set',
  summary: "Change a contact's name or groups",
  description:
    "Changes a contact's name (--name) and groups: the --group options given replace the old groups; " +
    'without --group the groups stay, --no-groups takes it out of every group. Exit 1 when JID is ' +
    'not in the roster.',
  arguments: [jidArg('The contact')],
  options: [
    { name: 'name', type: 'string', value: 'N', description: "The contact's new name ('' removes it)" },
    {
      name: 'group',
      type: 'string',
      value: 'G',
      repeatable: true,
      description: 'A group (all given replace the old ones)',
    },
    { name: 'no-groups', type: 'boolean', description: 'Remove the contact from every group' },
  ],
  examples: [
    {
      command: 'confab roster set romeo@example.net --group Family --group Verona',
      description: 'Move Romeo to Family and Verona',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runSet(ctx);
  },
});

export const rosterRemove = defineCommand({
  name: 'roster remove',
  summary: 'Remove a contact (and the subscriptions both ways)',
  description:
    'Removes JID from the roster; the server cancels the subscriptions both ways (RFC 6121 2.5). ' +
    'Exit 1 when it is not in the roster.',
  arguments: [jidArg('The contact')],
  options: [],
  examples: [{ command: 'confab roster remove romeo@example.net', description: 'Forget Romeo' }],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runRemove(ctx);
  },
});

export const rosterSend = defineCommand({
  name: 'roster send',
  summary: 'Suggest contacts to someone (roster item exchange)',
  description:
    'Sends JID a message suggesting the CONTACTs (XEP-0144 roster item exchange), with the names and ' +
    'groups they have in your roster. Exits 0 once the server has it; with --json one `result` with ' +
    'the message id.',
  arguments: [
    jidArg('Who gets the suggestion'),
    { name: 'CONTACT', description: 'The contacts to suggest', variadic: true, complete: 'jid' },
  ],
  options: [],
  examples: [
    {
      command: 'confab roster send juliet@example.org romeo@example.net mercutio@example.net',
      description: 'Tell Juliet about Romeo and Mercutio',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runSend(ctx);
  },
});

export const subscribe = defineCommand({
  name: 'subscribe',
  summary: "Ask to see a contact's presence",
  description:
    'Sends a subscription request to JID (the server adds JID to the roster). Exits 0 once the ' +
    'server has it; the answer comes later (confab listen shows it).',
  arguments: [jidArg('The contact')],
  options: [
    { name: 'status', type: 'string', value: 'TEXT', description: 'A few words sent with the request' },
  ],
  examples: [
    { command: "confab subscribe romeo@example.net --status 'It is Juliet'", description: 'Ask Romeo' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runSubscription(ctx);
  },
});

export const unsubscribe = defineCommand({
  name: 'unsubscribe',
  summary: "Stop seeing a contact's presence",
  description: "Cancels your subscription to JID's presence (they keep seeing yours unless you deny them).",
  arguments: [jidArg('The contact')],
  options: [],
  examples: [
    { command: 'confab unsubscribe romeo@example.net', description: "Stop seeing Romeo's presence" },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runSubscription(ctx);
  },
});

export const approve = defineCommand({
  name: 'approve',
  summary: 'Let a contact see your presence',
  description:
    "Approves JID's subscription request (or, where the server offers pre-approval, approves it " +
    'before they ask).',
  arguments: [jidArg('The contact')],
  options: [],
  examples: [{ command: 'confab approve romeo@example.net', description: 'Let Romeo see your presence' }],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runSubscription(ctx);
  },
});

export const deny = defineCommand({
  name: 'deny',
  summary: 'Refuse a subscription request, or cancel one',
  description: "Refuses JID's subscription request, or cancels their existing subscription to your presence.",
  arguments: [jidArg('The contact')],
  options: [],
  examples: [{ command: 'confab deny spam@example.org', description: 'Refuse a request' }],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/roster.ts')).runSubscription(ctx);
  },
});

// ---- presence (RFC 6121 4, XEP-0186) ----

export const presence = defineCommand({
  name: 'presence',
  summary: 'Be online, away, busy... until interrupted or for a while',
  description:
    'Connects and holds this presence until interrupted (exit 0) or for --for SECONDS. SHOW is online, ' +
    'chat, away, xa (extended away), dnd (do not disturb) or invisible. Messages that arrive meanwhile ' +
    'are printed as confab listen prints them. invisible needs a server that offers XEP-0186 ' +
    '(urn:xmpp:invisible:0): where it does not (Prosody 0.12 and ejabberd 23 do not), it exits 1 ' +
    'saying so instead of faking it.',
  arguments: [{ name: 'SHOW', description: 'online, chat, away, xa, dnd or invisible', complete: 'none' }],
  options: [
    { name: 'status', type: 'string', value: 'TEXT', description: 'A status message' },
    { name: 'priority', type: 'integer', value: 'N', description: 'Priority, -128 to 127 (default 0)' },
    { name: 'for', type: 'seconds', value: 'SECONDS', description: 'Go offline after SECONDS' },
  ],
  examples: [
    { command: "confab presence away --status 'At lunch' --for 3600", description: 'Away for an hour' },
    {
      command: 'confab presence dnd --priority -1',
      description: 'Busy, and no messages to the bare JID here',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    const shows = ['online', 'chat', 'away', 'xa', 'dnd', 'invisible'];
    if (!shows.includes(ctx.args.SHOW)) {
      const { UsageError } = await import('./args.ts');
      throw new UsageError(`SHOW must be one of ${shows.join(', ')}, not '${ctx.args.SHOW}'`, 'presence');
    }
    return (await import('./commands/presence.ts')).run(ctx);
  },
});

// ---- vCard, nickname, avatar, filter ----

export const vcard = defineCommand({
  name: 'vcard',
  summary: 'Show a vCard (yours without JID)',
  description:
    "Prints JID's vCard (XEP-0054), or yours without JID, one field a line. With --json one `result` " +
    'with the fields by their lower-cased vCard names (`fn`, `nickname`, `email` and `tel` as lists, ' +
    '`photo` with `type` and base64 `binval`...). Exit 1 when there is none. Subcommand: vcard set.',
  arguments: [{ name: 'JID', description: 'Whose vCard (default: yours)', optional: true, complete: 'jid' }],
  options: [],
  examples: [
    { command: 'confab vcard romeo@example.net', description: "Show Romeo's vCard" },
    { command: 'confab vcard --json', description: 'Your vCard as one JSON object' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/identity.ts')).runVcard(ctx);
  },
});

export const vcardSet = defineCommand({
  name: 'vcard set',
  summary: 'Change your vCard',
  synopsis:
    '--fn NAME [--nickname N] [--email E] [--url U] [--birthday YYYY-MM-DD] [--note T] [--photo FILE]',
  description:
    "Sets the fields given in your vCard and keeps the others (a field given as '' is removed). --fn " +
    'is required. --photo takes a PNG, JPEG or GIF file.',
  arguments: [],
  options: [
    { name: 'fn', type: 'string', value: 'NAME', description: 'Your full name (required)' },
    { name: 'nickname', type: 'string', value: 'N', description: 'Your nickname' },
    { name: 'email', type: 'string', value: 'E', description: 'Your email address' },
    { name: 'url', type: 'string', value: 'U', description: 'Your web page' },
    { name: 'birthday', type: 'string', value: 'YYYY-MM-DD', description: 'Your birthday' },
    { name: 'note', type: 'string', value: 'T', description: 'A few words about you' },
    { name: 'photo', type: 'string', value: 'FILE', description: 'A picture (PNG, JPEG or GIF)' },
  ],
  examples: [
    {
      command: "confab vcard set --fn 'Juliet Capulet' --nickname jc --birthday 1582-07-31",
      description: 'Set your name, nickname and birthday',
    },
    { command: "confab vcard set --fn 'Juliet Capulet' --note ''", description: 'Remove the note' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/identity.ts')).runVcardSet(ctx);
  },
});

export const nick = defineCommand({
  name: 'nick',
  summary: 'Show or publish your nickname',
  description:
    "Publishes NAME as your nickname (XEP-0172, in your PEP service; '' removes it), or without NAME " +
    'prints the one published. Exit 1 when none is.',
  arguments: [{ name: 'NAME', description: 'The nickname to publish', optional: true, complete: 'none' }],
  options: [],
  examples: [
    { command: 'confab nick Juliet', description: 'Publish your nickname' },
    { command: 'confab nick', description: 'Show it' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/identity.ts')).runNick(ctx);
  },
});

export const avatar = defineCommand({
  name: 'avatar',
  summary: 'Publish an avatar, or show yours',
  description:
    'Publishes FILE (PNG or JPEG) as your avatar (XEP-0084: the image, then its metadata, in your PEP ' +
    "service), or without FILE prints your avatar's metadata: id (the image's SHA-1), type, size and " +
    'dimensions. Exit 1 when none is published.',
  arguments: [{ name: 'FILE', description: 'A PNG or JPEG image', optional: true, complete: 'file' }],
  options: [],
  examples: [
    { command: 'confab avatar me.png', description: 'Publish an avatar' },
    { command: 'confab avatar --json', description: "Your avatar's metadata as JSON" },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/identity.ts')).runAvatar(ctx);
  },
});

export const filter = defineCommand({
  name: 'filter',
  summary: 'Take messages from buddies only, or from everyone',
  synopsis: '[buddies|everyone]',
  description:
    'buddies: confab hides chat messages from anyone not in your roster with a subscription; ' +
    'everyone: shows all. The switch is kept in private storage on the server, so every confab of the ' +
    'account shares it. Without MODE prints the current one.',
  arguments: [{ name: 'MODE', description: 'buddies or everyone', optional: true, complete: 'none' }],
  options: [],
  examples: [
    { command: 'confab filter buddies', description: 'Only messages from buddies' },
    { command: 'confab filter', description: 'Show the current mode' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/identity.ts')).runFilter(ctx);
  },
});

// ---- blocking, private storage, service discovery ----

export const block = defineCommand({
  name: 'block',
  summary: 'Block JIDs (no messages, presence or requests from them)',
  description:
    'Adds each JID (a user, a full JID or a whole domain) to your blocklist (XEP-0191): the server ' +
    'drops what they send you and they see you offline.',
  arguments: [{ name: 'JID', description: 'Who to block', variadic: true, complete: 'jid' }],
  options: [],
  examples: [
    { command: 'confab block spam@example.org spam.example', description: 'Block a user and a domain' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/server.ts')).runBlock(ctx);
  },
});

export const unblock = defineCommand({
  name: 'unblock',
  summary: 'Unblock JIDs',
  synopsis: 'JID... | --all',
  description: 'Takes each JID off your blocklist; --all empties it.',
  arguments: [
    { name: 'JID', description: 'Who to unblock', optional: true, variadic: true, complete: 'jid' },
  ],
  options: [{ name: 'all', type: 'boolean', description: 'Unblock everyone' }],
  examples: [
    { command: 'confab unblock romeo@example.net', description: 'Unblock Romeo' },
    { command: 'confab unblock --all', description: 'Empty the blocklist' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/server.ts')).runUnblock(ctx);
  },
});

export const blocklist = defineCommand({
  name: 'blocklist',
  summary: 'List the blocked JIDs',
  description:
    'Prints your blocklist (XEP-0191), one JID a line; with --json one `blocked` object (`jid`) each.',
  arguments: [],
  options: [],
  examples: [{ command: 'confab blocklist', description: 'Who is blocked' }],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/server.ts')).runBlocklist(ctx);
  },
});

export const privateSet = defineCommand({
  name: 'private set',
  summary: 'Store XML in private storage',
  description:
    'Stores XML on your server where only your account can read it (XEP-0049), replacing what was ' +
    "stored under the same element name and NAMESPACE. XML's root must be in NAMESPACE (it is the " +
    "default namespace, so <prefs>...</prefs> needs no xmlns); '-' reads it from stdin. Namespaces " +
    'starting jabber: or http://jabber.org/ are reserved.',
  arguments: [
    { name: 'NAMESPACE', description: 'The namespace of the root element', complete: 'none' },
    { name: 'XML', description: "One element, or '-' for stdin", complete: 'none' },
  ],
  options: [],
  examples: [
    {
      command: "confab private set urn:example:prefs '<prefs><theme>dark</theme></prefs>'",
      description: 'Store some preferences',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/server.ts')).runPrivateSet(ctx);
  },
});

export const privateGet = defineCommand({
  name: 'private get',
  summary: 'Read XML from private storage',
  synopsis: 'NAMESPACE XML|NAME',
  description:
    'Prints the element stored under NAMESPACE and the element name, given as empty XML ' +
    "(<prefs xmlns='urn:x'/>) or just the name (prefs). With --json one `result` with `xml`. " +
    'Exit 1 when nothing is stored there.',
  arguments: [
    { name: 'NAMESPACE', description: 'The namespace of the element', complete: 'none' },
    { name: 'ELEMENT', description: 'Its name, or it as empty XML', complete: 'none' },
  ],
  options: [],
  examples: [
    { command: 'confab private get urn:example:prefs prefs', description: 'Read the preferences back' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/server.ts')).runPrivateGet(ctx);
  },
});

export const disco = defineCommand({
  name: 'disco',
  summary: 'Ask what a server, service or client offers',
  description:
    'Service discovery (XEP-0030) of JID (default: your server): its identities and features, or with ' +
    '--items the items it lists (services, rooms...). --node asks about one node. With --json one ' +
    '`result` with `identities` and `features` lists, or one `item` object (`jid`, `node`, `name`) each.',
  arguments: [
    { name: 'JID', description: 'What to ask (default: your server)', optional: true, complete: 'jid' },
  ],
  options: [
    { name: 'items', type: 'boolean', description: 'List its items instead' },
    { name: 'node', type: 'string', value: 'N', description: 'Ask about this node' },
  ],
  examples: [
    { command: 'confab disco', description: "Your server's features" },
    { command: 'confab disco --items', description: "Your server's services" },
    { command: 'confab disco conference.example.org --items', description: 'The rooms of a MUC service' },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/server.ts')).runDisco(ctx);
  },
});

export const help = defineCommand({
  name: 'help',
  summary: 'Show the commands, or one command with its examples',
  description:
    "Shows what 'confab --help' shows, or with a command name what 'confab COMMAND --help' shows: " +
    'its synopsis, options and examples. The same text the interactive /help shows.',
  arguments: [{ name: 'COMMAND', description: 'The command to explain', optional: true, variadic: true }],
  options: [],
  examples: [
    { command: 'confab help', description: 'List the commands and the account and connection options' },
    { command: 'confab help send', description: 'Explain send, with examples' },
  ],
  connects: false,
  async handler(ctx): Promise<number> {
    const { commandHelp, globalHelp } = await import('./help.ts');
    const { UsageError } = await import('./args.ts');
    const name = ctx.args.COMMAND.join(' ');
    if (name === '') {
      ctx.io.stdout.write(globalHelp(COMMANDS));
      return 0;
    }
    const cmd = COMMANDS.find((c) => c.name === name);
    if (!cmd) throw new UsageError(`unknown command '${name}'`, 'help');
    ctx.io.stdout.write(commandHelp(cmd));
    return 0;
  },
});

/** Every command, in the order help lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  send,
  listen,
  roster,
  rosterAdd,
  rosterSet,
  rosterRemove,
  rosterSend,
  subscribe,
  unsubscribe,
  approve,
  deny,
  presence,
  vcard,
  vcardSet,
  nick,
  avatar,
  filter,
  block,
  unblock,
  blocklist,
  privateSet,
  privateGet,
  disco,
  ...ROOM_COMMANDS,
  ...FILE_COMMANDS,
  ...ACCOUNT_COMMANDS,
  ...HISTORY_COMMANDS,
  ...CHAT_COMMANDS,
  help,
];
