import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfabError } from '../../confab/src/errors.ts';
import { UsageError } from './args.ts';
import { CliError, describeError, EXIT, EXIT_BY_ERROR_CODE, exitCodeFor } from './exit.ts';

describe('exit codes', () => {
  it('are the fixed ones and never 124-128', () => {
    assert.deepEqual(EXIT, { ok: 0, failure: 1, usage: 2, connect: 3, auth: 4, timeout: 5 });
    for (const code of Object.values(EXIT_BY_ERROR_CODE)) assert.ok(code >= 0 && code <= 5);
  });

  it('map library error codes', () => {
    const cases: [string, number][] = [
      ['ERR_AUTH', 4],
      ['ERR_AUTH_NO_MECHANISM', 4],
      ['ERR_AUTH_SERVER_SIGNATURE', 4],
      ['ERR_CONNECT', 3],
      ['ERR_DNS', 3],
      ['ERR_TLS', 3],
      ['ERR_TLS_CERT', 3],
      ['ERR_TLS_PIN', 3],
      ['ERR_TLS_REQUIRED', 3],
      ['ERR_PLAINTEXT_REFUSED', 3],
      ['ERR_TIMEOUT', 5],
      ['ERR_STANZA', 1],
      ['ERR_BAD_INPUT', 2],
    ];
    for (const [code, exit] of cases) {
      assert.equal(exitCodeFor(new ConfabError(code as never, 'x')), exit, code);
    }
  });

  it('map CLI errors, usage errors, and anything else to failure', () => {
    assert.equal(exitCodeFor(new UsageError('x')), 2);
    assert.equal(exitCodeFor(new CliError(EXIT.timeout, 'x')), 5);
    assert.equal(exitCodeFor(new Error('boom')), 1);
    assert.equal(exitCodeFor({ code: 'ERR_SOMETHING_NEW' }), 1);
    assert.equal(exitCodeFor(undefined), 1);
  });
});

describe('describeError', () => {
  it('is one line with the condition and the server text, sanitized', () => {
    const err = new ConfabError('ERR_AUTH', 'authentication failed for a@b', {
      condition: 'not-authorized',
      text: 'Bad\npassword\u001b[2J',
    });
    assert.equal(
      describeError(err),
      'confab: authentication failed for a@b [not-authorized] (server said: Bad password)',
    );
  });

  it('does not repeat a condition the message already names', () => {
    const err = new ConfabError('ERR_STANZA', 'the server refused: item-not-found', {
      condition: 'item-not-found',
    });
    assert.equal(describeError(err), 'confab: the server refused: item-not-found');
  });

  it('adds a hint for a refused plaintext connection', () => {
    const line = describeError(new ConfabError('ERR_PLAINTEXT_REFUSED', 'the connection is not encrypted'));
    assert.match(line, /--allow-plaintext/);
  });

  it("words a certificate refusal with the CLI's options and the pin to use", async () => {
    const { TlsCertificateError } = await import('../../confab/src/transport/tls.ts');
    const err = new TlsCertificateError('ERR_TLS_CERT', {
      tlsCode: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      domain: 'example.org',
      fingerprint256: 'AB:CD',
      spkiSha256: 'c3BraQ==',
    });
    assert.equal(exitCodeFor(err), 3);
    assert.equal(
      describeError(err),
      'confab: the certificate of example.org was refused: self-signed (DEPTH_ZERO_SELF_SIGNED_CERT); ' +
        'certificate SHA-256 AB:CD; use --ca FILE to trust its CA, or --pin sha256/c3BraQ== once you have checked the fingerprint',
    );
    const pin = new TlsCertificateError('ERR_TLS_PIN', {
      tlsCode: 'PIN',
      domain: 'example.org',
      spkiSha256: 'eHl6',
    });
    assert.match(describeError(pin), /does not match --pin \(its key is sha256\/eHl6\)/);
  });

  it('points usage errors at the right help', () => {
    assert.equal(
      describeError(new UsageError('missing JID', 'send')),
      "confab: missing JID (see 'confab send --help')",
    );
    assert.equal(
      describeError(new UsageError('unknown option --x')),
      "confab: unknown option --x (see 'confab --help')",
    );
  });
});
