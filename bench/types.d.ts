// Minimal types for the benchmark's peers that ship none (@xmpp/xml, ltx): only what bench/ uses.
// (@types/xmpp__client and @types/ltx exist but are not installed; these keep the bench type-checked.)

declare module '@xmpp/xml' {
  import type { EventEmitter } from 'node:events';

  export class Element {
    constructor(name: string, attrs?: Record<string, string>);
    name: string;
    attrs: Record<string, string>;
    children: Array<Element | string>;
    parent: Element | null;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    toString(): string;
  }

  /** ltx's SAX parser wrapped into a stream-level parser: 'start', 'element', 'end', 'error'. */
  export class Parser extends EventEmitter {
    write(data: string | Uint8Array): void;
    end(data?: string): void;
  }

  type Attrs = Record<string, string | number | undefined | null> | null;
  export function xml(name: string, attrs?: Attrs, ...children: Array<Element | string>): Element;
  export function escapeXML(s: string): string;
  export function escapeXMLText(s: string): string;
  export default xml;
}

declare module 'ltx' {
  import type { EventEmitter } from 'node:events';

  export class Element {
    constructor(name: string, attrs?: Record<string, string>);
    name: string;
    attrs: Record<string, string>;
    children: Array<Element | string>;
    parent: Element | null;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    getNS(): string | undefined;
    toString(): string;
  }

  /** Document parser: emits 'tree' with the root element on end(). */
  export class Parser extends EventEmitter {
    write(data: string | Uint8Array): void;
    end(data?: string): void;
  }

  export function parse(data: string): Element;
}
