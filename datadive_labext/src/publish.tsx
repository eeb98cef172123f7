/**
 * Publishing a file or notebook as a public link, with the dialogs that ask first and show the URL once.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { isNotebook } from './format';
import type { PanelModel } from './model';

/**
 * Publish a file or notebook as a public link: ask first (for a notebook: with or without its
 * code), then show the URL once, with a button that copies it.
 */
export async function publishWithDialogs(model: PanelModel, path: string): Promise<void> {
  const notebook = isNotebook(path);
  const ask = await showDialog({
    title: `Publish "${path}"?`,
    body: notebook
      ? 'Anyone with the link can read this notebook as it is now (a static page; nothing is run), without signing in. Later changes are not published. You can withdraw the link at any time.'
      : 'Anyone with the link can download this file as it is now, without signing in. Later changes are not published. You can withdraw the link at any time.',
    buttons: notebook
      ? [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish with code', displayType: 'default' }), Dialog.okButton({ label: 'Publish without code' })]
      : [Dialog.cancelButton(), Dialog.okButton({ label: 'Publish' })]
  });
  if (!ask.button.accept) {
    return;
  }
  const link = await model.publish(path, ask.button.label === 'Publish without code');
  if (!link?.url) {
    return;
  }
  const url = new URL(link.url, window.location.origin).href;
  const shown = await showDialog({
    title: 'Public link',
    body: (
      <div className="dd-LinkShown">
        <label htmlFor="dd-public-url">Copy it now: it is shown only this once.</label>
        <input id="dd-public-url" className="dd-Input jp-mod-styled" readOnly value={url} onFocus={e => e.currentTarget.select()} />
      </div>
    ),
    buttons: [Dialog.cancelButton({ label: 'Close' }), Dialog.okButton({ label: 'Copy link' })]
  });
  if (shown.button.accept) {
    await navigator.clipboard?.writeText(url).catch(() => undefined);
  }
}
