/**
 * The Datadive sidebar widget: it renders the panel view and moves the keyboard focus into it
 * when activated. Plain buttons, inputs and lists with labels, so everything works with the
 * keyboard and a screen reader; colours and fonts come from the Lab theme (--jp-* variables,
 * style/base.css).
 */
import { ReactWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import * as React from 'react';

import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';
import { PanelView } from './panelview';

export class DatadivePanel extends ReactWidget {
  constructor(
    readonly model: PanelModel,
    readonly actions: IPanelActions
  ) {
    super();
    this.id = 'datadive-panel';
    this.addClass('dd-Panel');
    this.title.caption = 'Datadive';
    model.changed.connect(() => this.update(), this);
  }

  /** Called each time the panel becomes visible (the first time loads the projects). */
  onShow: (() => void) | null = null;

  protected onAfterShow(): void {
    this.onShow?.();
  }

  /**
   * Activation (the "Open Panel" command, its shortcut, or the sidebar tab) moves the keyboard
   * focus into the panel, on its first field or button, unless the focus is already inside.
   */
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    requestAnimationFrame(() => {
      if (this.isVisible && !this.node.contains(document.activeElement)) {
        this.node.querySelector<HTMLElement>('input:not([type="file"]), select, button, [tabindex="0"]')?.focus();
      }
    });
  }

  render(): JSX.Element {
    return <PanelView model={this.model} actions={this.actions} />;
  }
}
