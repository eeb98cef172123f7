import { categoryRank, filtersLabel, galleryGroups, orderedCategories } from '../src/gallerylogic';
import type { ITemplate } from '../src/types';

const t = (id: string, category: string, category_order?: number): ITemplate => ({
  id,
  title: id,
  version: '1',
  description: '',
  category,
  category_order,
  tags: [],
  inputs: {},
  ui_schema: {}
});

const library = [t('histogram', 'Plot'), t('t-test', 'Test'), t('describe', 'Explore'), t('load-csv', 'Load data'), t('filter-rows', 'Transform'), t('fit', 'Model')];

describe('gallery order', () => {
  it('puts categories in the order of an analysis without a server order', () => {
    expect(orderedCategories(library)).toEqual(['Load data', 'Transform', 'Explore', 'Test', 'Model', 'Plot']);
    expect(galleryGroups(library)[0].templates[0].id).toBe('load-csv');
  });
  it("follows the server's category_order when present", () => {
    const withOrder = [t('a', 'Plot', 0), t('b', 'Load data', 5)];
    expect(orderedCategories(withOrder)).toEqual(['Plot', 'Load data']);
    expect(orderedCategories(library, ['Plot', 'Load data'])[0]).toBe('Plot');
    expect(categoryRank('Unknown')).toBeGreaterThan(categoryRank('Plot'));
  });
  it('labels the tag toggle', () => {
    expect(filtersLabel(0, false)).toBe('More filters');
    expect(filtersLabel(2, true)).toBe('Fewer filters (2 chosen)');
  });
});
