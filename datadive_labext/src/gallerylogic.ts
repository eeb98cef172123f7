/**
 * Pure logic of the template gallery (gallery.tsx): categories in the order of an analysis
 * (load, clean, explore, test, plot), as the server orders them when it says so.
 */
import type { ITemplate } from './types';

/** Where a category falls in an analysis when the server gives no order (by its first word). */
export const ANALYSIS_ORDER = ['load', 'import', 'clean', 'prepare', 'transform', 'explore', 'describe', 'test', 'model', 'plot', 'report'];

/**
 * Rank of a category: the server's `category_order` (a number on the template, or the
 * category's place in a list the listing carries), else its place in ANALYSIS_ORDER, else last.
 */
export function categoryRank(category: string, order?: number | null, listOrder?: string[] | null): number {
  if (typeof order === 'number' && Number.isFinite(order)) {
    return order;
  }
  if (Array.isArray(listOrder)) {
    const i = listOrder.findIndex(c => c.toLowerCase() === category.toLowerCase());
    if (i >= 0) {
      return i;
    }
  }
  const lower = category.trim().toLowerCase();
  const i = ANALYSIS_ORDER.findIndex(k => lower.startsWith(k));
  return i >= 0 ? 1000 + i : 2000;
}

function rankOf(t: ITemplate, listOrder?: string[] | null): number {
  return categoryRank(t.category, t.category_order, listOrder);
}

/** The distinct categories of the templates, in analysis order (ties by name). */
export function orderedCategories(templates: ITemplate[], listOrder?: string[] | null): string[] {
  const rank = new Map<string, number>();
  for (const t of templates) {
    const r = rankOf(t, listOrder);
    rank.set(t.category, Math.min(rank.get(t.category) ?? Infinity, r));
  }
  return [...rank.keys()].sort((a, b) => (rank.get(a) as number) - (rank.get(b) as number) || a.localeCompare(b));
}

/** Templates grouped by category, the groups in analysis order, titles alphabetical inside. */
export function galleryGroups(templates: ITemplate[], listOrder?: string[] | null): { category: string; templates: ITemplate[] }[] {
  return orderedCategories(templates, listOrder).map(category => ({
    category,
    templates: templates.filter(t => t.category === category).sort((a, b) => a.title.localeCompare(b.title))
  }));
}

/** The label of the tag toggle: "More filters" (+ how many tags are chosen). */
export function filtersLabel(chosen: number, open: boolean): string {
  const base = open ? 'Fewer filters' : 'More filters';
  return chosen ? `${base} (${chosen} chosen)` : base;
}

/** Template gallery filter: free-text search, one category, every chosen tag. */
export function filterTemplates(
  templates: ITemplate[],
  opts: { query?: string; category?: string; tags?: string[] }
): ITemplate[] {
  const words = (opts.query || '').toLowerCase().split(/\s+/).filter(Boolean);
  const tags = (opts.tags || []).map(t => t.toLowerCase());
  return templates
    .filter(t => !opts.category || t.category === opts.category)
    .filter(t => {
      const own = t.tags.map(x => x.toLowerCase());
      return tags.every(tag => own.includes(tag));
    })
    .filter(t => {
      if (!words.length) {
        return true;
      }
      const hay = `${t.title} ${t.id} ${t.description} ${t.category} ${t.tags.join(' ')}`.toLowerCase();
      return words.every(w => hay.includes(w));
    })
    .sort((a, b) => a.category.localeCompare(b.category) || a.title.localeCompare(b.title));
}

/** Sorted distinct categories and tags of a template list. */
export function templateFacets(templates: ITemplate[]): { categories: string[]; tags: string[] } {
  const categories = new Set<string>();
  const tags = new Set<string>();
  for (const t of templates) {
    categories.add(t.category);
    t.tags.forEach(tag => tags.add(tag));
  }
  return { categories: [...categories].sort(), tags: [...tags].sort() };
}
