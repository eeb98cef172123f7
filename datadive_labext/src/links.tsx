/**
 * A project's public links, with Withdraw for editors.
 */
import * as React from 'react';

import type { PanelModel } from './model';

export function LinksList({ model, editable }: { model: PanelModel; editable: boolean }): JSX.Element | null {
  if (!model.links.length) {
    return null;
  }
  return (
    <>
      <h4 className="dd-GroupTitle" id="dd-links-title">
        Public links
      </h4>
      <ul className="dd-List" aria-labelledby="dd-links-title">
        {model.links.map(link => (
          <li key={link.id} className="dd-Item dd-PublicLink">
            <span className="dd-ItemName">
              {link.path}
              <span className="dd-Muted dd-Pending">
                by {link.created_by}
                {link.kind === 'notebook' && link.hide_code ? ', without code' : ''}
                {link.expired ? ', expired' : link.expires_at ? `, until ${link.expires_at.slice(0, 10)}` : ''}
              </span>
            </span>
            {editable && (
              <button className="dd-Link" onClick={() => void model.revokeLink(link)} aria-label={`Withdraw the public link to ${link.path}`}>
                Withdraw
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
