/**
 * Field template for the template form. JupyterLab's FormComponent draws each field's title as a
 * heading that is not tied to its input, so screen readers announce unnamed inputs (axe: "label",
 * "select-name"). This template keeps Lab's look (the same jp-FormGroup classes) and renders the
 * title as a <label for=...> with the description referenced by aria-describedby.
 */
import type { FieldTemplateProps } from '@rjsf/utils';
import * as React from 'react';

export function LabelledFieldTemplate(props: FieldTemplateProps): JSX.Element {
  const { id, label, displayLabel, required, rawErrors, errors, children, schema, hidden } = props;
  if (hidden) {
    return <div className="hidden">{children}</div>;
  }
  const isRoot = id === 'dd-form' || id.endsWith('_root') || schema.type === 'object';
  const isItem = !(schema.type === 'object' || schema.type === 'array');
  const description = schema.description;
  return (
    <div className={`form-group ${displayLabel || schema.type === 'boolean' ? 'small-field' : ''}`}>
      {rawErrors?.length ? <div className="jp-modifiedIndicator jp-errorIndicator" /> : null}
      <div className="jp-FormGroup-content jp-FormGroup-contentNormal">
        {!isRoot && displayLabel && label ? (
          isItem ? (
            <label htmlFor={id} className="jp-FormGroup-fieldLabel jp-FormGroup-contentItem dd-FieldLabel">
              {label}
              {required ? <span aria-hidden="true"> *</span> : null}
            </label>
          ) : (
            <div id={`${id}__title`} className="jp-FormGroup-fieldLabel jp-FormGroup-contentItem dd-FieldLabel">
              {label}
              {required ? <span aria-hidden="true"> *</span> : null}
            </div>
          )
        ) : null}
        <div
          className={isRoot ? 'jp-root' : schema.type === 'array' ? 'jp-arrayFieldWrapper' : 'jp-inputFieldWrapper jp-FormGroup-contentItem'}
          role={!isRoot && !isItem && label ? 'group' : undefined}
          aria-labelledby={!isRoot && !isItem && label ? `${id}__title` : undefined}
        >
          {children}
        </div>
        {!isRoot && description && schema.type !== 'object' ? (
          <div id={`${id}__description`} className="jp-FormGroup-description">
            {description}
          </div>
        ) : null}
        <div className="validationErrors" role={rawErrors?.length ? 'alert' : undefined}>
          {errors}
        </div>
      </div>
    </div>
  );
}
