/**
 * The draft store: half-filled template forms survive a reload (localStorage in the browser).
 */

/** The part of the Web Storage API the draft store needs (localStorage in the browser). */
export interface IKeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  readonly length: number;
  key(index: number): string | null;
}

export interface IDraft {
  template: string;
  version: string | number;
  project: string | null;
  values: Record<string, unknown>;
  saved: number;
}

/**
 * Half-filled template forms, one per (project, template), kept in a key-value store so a
 * reload keeps them. Drafts older than `maxAgeDays` (the "Keep form drafts for" setting) are
 * dropped when read, listed or pruned.
 */
export class DraftStore {
  constructor(
    private store: IKeyValueStore,
    private prefix = 'datadive:draft:',
    maxAgeDays = 30,
    private now: () => number = () => Date.now()
  ) {
    this.maxAgeDays = maxAgeDays;
  }

  private _maxAgeDays = 30;

  /** Days a draft is kept after its last change (the setting `draftMaxAgeDays`; at least 1). */
  get maxAgeDays(): number {
    return this._maxAgeDays;
  }

  set maxAgeDays(days: number) {
    const n = Number(days);
    this._maxAgeDays = Number.isFinite(n) && n >= 1 ? n : 30;
  }

  private expired(draft: IDraft): boolean {
    return typeof draft?.saved !== 'number' || this.now() - draft.saved > this._maxAgeDays * 86400000;
  }

  key(project: string | null, template: string): string {
    return `${this.prefix}${project ?? '-'}:${template}`;
  }

  save(draft: Omit<IDraft, 'saved'>): IDraft {
    const full: IDraft = { ...draft, saved: this.now() };
    this.store.setItem(this.key(draft.project, draft.template), JSON.stringify(full));
    return full;
  }

  load(project: string | null, template: string): IDraft | null {
    const key = this.key(project, template);
    const text = this.store.getItem(key);
    if (!text) {
      return null;
    }
    try {
      const draft = JSON.parse(text) as IDraft;
      if (this.expired(draft)) {
        this.store.removeItem(key);
        return null;
      }
      return draft;
    } catch {
      this.store.removeItem(key);
      return null;
    }
  }

  discard(project: string | null, template: string): void {
    this.store.removeItem(this.key(project, template));
  }

  /** All drafts that are not too old (e.g. "draft" badges in the gallery), newest first. */
  list(): IDraft[] {
    const out: IDraft[] = [];
    for (const key of this.keys()) {
      try {
        const draft = JSON.parse(this.store.getItem(key) || '') as IDraft;
        if (!this.expired(draft)) {
          out.push(draft);
        }
      } catch {
        /* a broken entry is not a draft; prune() and load() remove it */
      }
    }
    return out.sort((a, b) => b.saved - a.saved);
  }

  /** Remove drafts older than `maxAgeDays` (and broken entries); returns how many went. */
  prune(): number {
    let removed = 0;
    for (const key of this.keys()) {
      let drop = true;
      try {
        drop = this.expired(JSON.parse(this.store.getItem(key) || ''));
      } catch {
        drop = true;
      }
      if (drop) {
        this.store.removeItem(key);
        removed++;
      }
    }
    return removed;
  }

  private keys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.store.length; i++) {
      const key = this.store.key(i);
      if (key && key.startsWith(this.prefix)) {
        keys.push(key);
      }
    }
    return keys;
  }

  /** The most recently saved draft (the form to reopen after a reload), or null. */
  latest(): IDraft | null {
    const all = this.list();
    return all.length ? this.load(all[0].project, all[0].template) : null;
  }
}

/** An in-memory IKeyValueStore (tests, and a fallback where localStorage is unavailable). */
export class MemoryStore implements IKeyValueStore {
  private map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.map.has(key) ? (this.map.get(key) as string) : null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}
