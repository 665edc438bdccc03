/**
 * XML given on the command line (`confab private set NAMESPACE XML`): parsed with the library's
 * own parser (the same strictness and limits as the stream), inside a wrapper that declares
 * NAMESPACE as the default, so `<prefs><theme>dark</theme></prefs>` needs no xmlns of its own.
 * Anything wrong is a usage error naming the problem.
 */
import type { Element } from 'confab';
import { parseXml } from 'confab/xml';
import { UsageError } from './args.ts';

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** The one element in `text`, whose namespace must be `namespace`. Throws UsageError. */
export function parseRootIn(namespace: string, text: string, command: string): Element {
  let wrapper: Element;
  try {
    wrapper = parseXml(`<confab-wrapper xmlns='${escapeAttr(namespace)}'>${text}</confab-wrapper>`);
  } catch (err) {
    throw new UsageError(`the XML is not well-formed: ${(err as Error).message}`, command);
  }
  const roots = wrapper.elements();
  const stray = wrapper.children.some((c) => typeof c === 'string' && c.trim() !== '');
  if (roots.length !== 1 || stray) throw new UsageError('the XML must be exactly one element', command);
  const root = roots[0]!;
  if (root.xmlns !== namespace) {
    throw new UsageError(
      `the XML's root <${root.name}> is in namespace '${root.xmlns}', not '${namespace}'`,
      command,
    );
  }
  return root;
}
