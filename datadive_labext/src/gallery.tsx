/**
 * The template gallery: search, a category choice, templates grouped by category in the order
 * of an analysis (gallerylogic.ts), and the tag chips folded behind "More filters".
 */
import * as React from 'react';

import { filterTemplates, filtersLabel, galleryGroups, orderedCategories, templateFacets } from './gallerylogic';
import type { PanelModel } from './model';

export function Gallery({ model }: { model: PanelModel }): JSX.Element {
  const { tags } = templateFacets(model.templates);
  const categories = orderedCategories(model.templates);
  const shown = filterTemplates(model.templates, { query: model.galleryQuery, category: model.galleryCategory, tags: model.galleryTags });
  const groups = galleryGroups(shown);
  const drafts = new Set(model.drafts.list().filter(d => d.project === (model.project?.id ?? null)).map(d => d.template));
  const [open, setOpen] = React.useState(false);
  const tagsShown = open || model.galleryTags.length > 0;
  return (
    <div className="dd-Gallery">
      <div className="dd-Row">
        <label htmlFor="dd-template-search" className="dd-VisuallyHidden">
          Search templates
        </label>
        <input
          id="dd-template-search"
          type="search"
          className="dd-Input jp-mod-styled"
          placeholder="Search templates"
          value={model.galleryQuery}
          onChange={e => {
            model.galleryQuery = e.target.value;
            model.emit();
          }}
        />
        <label htmlFor="dd-template-category" className="dd-VisuallyHidden">
          Category
        </label>
        <select
          id="dd-template-category"
          className="dd-Select jp-mod-styled"
          value={model.galleryCategory}
          onChange={e => {
            model.galleryCategory = e.target.value;
            model.emit();
          }}
        >
          <option value="">All categories</option>
          {categories.map(c => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </div>
      {tags.length > 0 && (
        <div className="dd-Row">
          <button className="dd-Link dd-MoreFilters" aria-expanded={tagsShown} aria-controls="dd-template-tags" onClick={() => setOpen(!tagsShown)}>
            {filtersLabel(model.galleryTags.length, tagsShown)}
          </button>
        </div>
      )}
      {tagsShown && (
        <div className="dd-Tags" id="dd-template-tags" role="group" aria-label="Filter by tag">
          {tags.map(tag => {
            const on = model.galleryTags.includes(tag);
            return (
              <button
                key={tag}
                className={`dd-Tag${on ? ' dd-mod-active' : ''}`}
                aria-pressed={on}
                onClick={() => {
                  model.galleryTags = on ? model.galleryTags.filter(t => t !== tag) : [...model.galleryTags, tag];
                  model.emit();
                }}
              >
                {tag}
              </button>
            );
          })}
        </div>
      )}
      {!model.templatesLoaded && model.busy && <p className="dd-Muted">Loading templates…</p>}
      {model.templatesOffline && (
        <p className="dd-Muted" role="status">
          The template library is not answering; these are the templates this server already had. Try again later
          for the newest ones.
        </p>
      )}
      {groups.map(g => {
        const headingId = `dd-category-${g.category.replace(/[^A-Za-z0-9]+/g, '-')}`;
        return (
          <div key={g.category} className="dd-Category">
            <h4 className="dd-GroupTitle dd-CategoryTitle" id={headingId}>
              {g.category}
            </h4>
            <ul className="dd-List dd-TemplateList" aria-labelledby={headingId}>
              {g.templates.map(t => (
                <li key={`${t.id}@${t.version}`} className="dd-Item dd-Template" data-template-id={t.id}>
                  <button className="dd-ItemMain dd-TemplateCard" onClick={() => void model.openForm(t.id, { version: t.version })}>
                    <span className="dd-ItemName">
                      {t.title}
                      {drafts.has(t.id) && <span className="dd-Badge">draft</span>}
                    </span>
                    {t.tags.length > 0 && <span className="dd-Muted">{t.tags.join(', ')}</span>}
                    {t.description && <span className="dd-Description">{t.description}</span>}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        );
      })}
      {model.templatesLoaded && !shown.length && <p className="dd-Muted">No template matches.</p>}
    </div>
  );
}
