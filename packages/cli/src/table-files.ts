/**
 * Commands of the command table (table.ts) for this area, in the order help lists them: file
 * transfer (issue 6, "File transfer"; issue 7, "Files"). HTTP upload (XEP-0363) is the default
 * way to share a file; `offer` serves the file from this machine and offers it with XEP-0066's
 * iq form, which tells the sender whether the receiver took it; `download` fetches a URL.
 */
import { type CommandSpec, defineCommand } from './spec.ts';

export const upload = defineCommand({
  name: 'upload',
  summary: 'Upload a file (HTTP upload) and print its URL',
  description:
    "Uploads FILE to your server's HTTP upload service (XEP-0363, found by service discovery) and " +
    'prints the URL to share it with. A file larger than the service takes is refused before anything ' +
    'is sent (exit 1, saying the limit); a server without an upload service exits 1 saying so. ' +
    'With --to it then sends the URL to JID the way Conversations and Dino show files inline: the ' +
    'message body is the URL alone, with out-of-band data (XEP-0066) carrying it and --desc. A progress ' +
    'bar goes to stderr when it is a terminal. With --json one `result` object: `command`, `url`, ' +
    '`name`, `size`, `type`, and with --to the `to` and message `id`. Anyone who has the URL can ' +
    'fetch the file.',
  arguments: [{ name: 'FILE', description: 'The file to upload', complete: 'file' }],
  options: [
    {
      name: 'to',
      type: 'string',
      value: 'JID',
      description: 'Also send the URL to JID (with out-of-band data)',
    },
    {
      name: 'desc',
      type: 'string',
      value: 'TEXT',
      description: 'A description sent with the URL (with --to)',
    },
  ],
  examples: [
    { command: 'confab upload holiday.jpg', description: 'Upload a photo and print its URL' },
    {
      command: "confab upload talk.pdf --to romeo@example.net --desc 'The slides'",
      description: 'Upload and send it to Romeo, shown inline by his client',
    },
    {
      command: 'confab upload build.tar.gz --json',
      description: 'One JSON `result` object with the url, for a script',
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/files.ts')).runUpload(ctx);
  },
});

export const offer = defineCommand({
  name: 'offer',
  summary: 'Offer a file from this machine (out-of-band, XEP-0066)',
  synopsis: 'FILE --to JID [--bind ADDR] [--wait SECONDS] [--desc TEXT]',
  description:
    'Serves FILE from a built-in HTTP server on an ephemeral port (bound to 127.0.0.1 unless --bind ' +
    'says otherwise: the receiver must be able to reach it), at a random single-use address, and ' +
    "offers it to JID with XEP-0066's iq form: to that full JID, or to the most available resource " +
    'of a bare JID whose presence you see. It waits up to --wait seconds for the answer, which the ' +
    'receiver gives after fetching the file. Exit 0 when it was accepted, 1 when it was refused ' +
    '(the reason is printed: not-acceptable, item-not-found...) or the contact is not online, 5 when ' +
    'no answer came. The server stops after one complete download or when the wait is over. ' +
    'A progress bar on stderr (a terminal) shows the download. With --json one `result` object: ' +
    '`command`, `to`, `url`, `status` (accepted, refused, timeout, offline), `condition`, `size`.',
  arguments: [{ name: 'FILE', description: 'The file to offer', complete: 'file' }],
  options: [
    {
      name: 'to',
      type: 'string',
      value: 'JID',
      description: 'The receiver (a full JID, or a contact whose presence you see)',
    },
    {
      name: 'bind',
      type: 'string',
      value: 'ADDR',
      default: '127.0.0.1',
      description: 'Address the built-in server listens on (0.0.0.0 for every interface)',
    },
    {
      name: 'wait',
      type: 'seconds',
      value: 'SECONDS',
      default: 300,
      description: 'How long to wait for the answer (and to serve the file)',
    },
    { name: 'desc', type: 'string', value: 'TEXT', description: 'A description sent with the offer' },
  ],
  examples: [
    {
      command: 'confab offer notes.txt --to juliet@example.org/balcony',
      description: "Offer a file to one of Juliet's clients on this machine",
    },
    {
      command: 'confab offer song.ogg --to romeo@example.net --bind 0.0.0.0 --wait 60',
      description: "Offer to Romeo's most available client over the network; give up after a minute",
    },
  ],
  connects: true,
  async handler(ctx): Promise<number> {
    return (await import('./commands/files.ts')).runOffer(ctx);
  },
});

export const download = defineCommand({
  name: 'download',
  summary: 'Download a file from an http(s) URL',
  description:
    'Fetches URL (http and https only; --ca applies) into FILE, or into the current directory under ' +
    "the URL's last path segment made safe (no separators, leading dots or control characters), never " +
    "overwriting: 'name (1).ext' when 'name.ext' exists; -o FILE that exists exits 1. Does not log in. " +
    'A download that ends early or sends more than its Content-Length fails and leaves no file. A ' +
    'progress bar goes to stderr when it is a terminal. With --json one `result` object: `command`, ' +
    '`url`, `path`, `size`, `type`.',
  arguments: [{ name: 'URL', description: 'What to download', complete: 'none' }],
  options: [
    {
      name: 'output',
      short: 'o',
      type: 'string',
      value: 'FILE',
      description: 'Save as FILE (must not exist)',
    },
  ],
  examples: [
    {
      command: 'confab download https://upload.example.org/x1y2/photo.jpg',
      description: 'Save photo.jpg here',
    },
    {
      command: 'confab download https://upload.example.org/x1y2/photo.jpg -o ~/Pictures/verona.jpg',
      description: 'Save it under another name',
    },
  ],
  connects: false,
  async handler(ctx): Promise<number> {
    return (await import('./commands/files.ts')).runDownload(ctx);
  },
});

export const FILE_COMMANDS: readonly CommandSpec[] = [upload, offer, download];
