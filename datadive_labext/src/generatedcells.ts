/**
 * Cells generated from a template: their datadive metadata and the source hash that tells a
 * generated cell from a hand-edited one (Web Crypto, or the server extension where the page is
 * not a secure context).
 */

export interface IDatadiveCellMeta {
  template: string;
  version: string | number;
  values: Record<string, unknown>;
  source_hash?: string;
  project?: string | null;
}

/** The datadive metadata of a cell, or null if it was not generated from a template. */
export function datadiveMeta(metadata: any): IDatadiveCellMeta | null {
  const meta = metadata?.datadive;
  if (meta && typeof meta === 'object' && typeof meta.template === 'string') {
    return meta as IDatadiveCellMeta;
  }
  return null;
}

/** Was the cell edited by hand since it was generated? (its source no longer has the recorded hash) */
export async function isHandEdited(source: string, meta: IDatadiveCellMeta): Promise<boolean> {
  return Boolean(meta.source_hash) && (await sourceHash(source)) !== meta.source_hash;
}

/** The cell source as one string (nbformat allows a list of lines). */
export function joinSource(source: string | string[]): string {
  return Array.isArray(source) ? source.join('') : source;
}

/** Hashes a cell source somewhere else than in the page (the server extension). */
export type SourceHasher = (source: string) => Promise<string>;

let serverHasher: SourceHasher | null = null;

/** Where the page has no Web Crypto, ask this instead (index.ts: `POST datadive/api/source-hash`). */
export function setServerHasher(hasher: SourceHasher | null): void {
  serverHasher = hasher;
}

/** `sha256:<hex>` of a cell source's UTF-8 bytes, as the server records it
 * (`datadive_server_ext.templates.render.source_hash`): Web Crypto, which exists only in secure
 * contexts (HTTPS or localhost), else the server's answer. */
export async function sourceHash(source: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) {
    if (!serverHasher) {
      throw new Error('This page cannot hash a cell (no Web Crypto outside HTTPS or localhost) and has no server to ask');
    }
    return serverHasher(source);
  }
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(source));
  return 'sha256:' + Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
}
