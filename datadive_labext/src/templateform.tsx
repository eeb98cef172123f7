/**
 * The template form: JupyterLab's FormComponent with errors shown only for fields the user has
 * touched (changed or left), or for every field once Insert / Update was pressed, in words
 * (formlogic.ts). Data frames of the notebook's kernel are offered for data-frame inputs, with
 * their columns; `level` inputs offer the chosen column's values.
 */
import { FormComponent } from '@jupyterlab/ui-components';
import validator from '@rjsf/validator-ajv8';
import * as React from 'react';

import { LabelledFieldTemplate } from './fieldtemplate';
import { IFormError, changedFields, errorSchemaOf, fieldFromId, fieldOf, visibleErrors } from './formlogic';
import { isDataFile } from './format';
import { formUiSchema, variableDatasets } from './formschema';
import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';

/** Every validation error of the values against the form's schema (ajv, as rjsf runs it). */
function validate(values: Record<string, unknown>, schema: any): IFormError[] {
  try {
    return (validator as any).validateFormData(values, schema).errors as IFormError[];
  } catch (err) {
    console.warn('datadive: the form could not be validated', err);
    return [];
  }
}

export function TemplateForm({ model, actions }: { model: PanelModel; actions: IPanelActions }): JSX.Element {
  const template = model.template;
  const formKey = `${template?.id ?? ''}@${template?.version ?? ''}:${model.editTarget?.cellId ?? 'new'}`;
  const [touched, setTouched] = React.useState<{ key: string; fields: Set<string>; submitted: boolean }>({
    key: formKey,
    fields: new Set(),
    submitted: false
  });
  // another template (or another cell to edit): nothing is touched yet
  const state = touched.key === formKey ? touched : { key: formKey, fields: new Set<string>(), submitted: false };
  const body = React.useRef<HTMLDivElement>(null);
  if (!template) {
    return <p className="dd-Muted">Choose a template first.</p>;
  }
  const schema = model.currentSchema();
  const fields = Object.keys(schema.properties || {});
  const uiSchema = { ...formUiSchema(template.inputs, template.ui_schema), 'ui:submitButtonOptions': { norender: true } };
  const varDatasets = variableDatasets(template.inputs, template.ui_schema);
  const framesOffered = varDatasets.length > 0 && model.frames.length > 0;
  const dataFiles = model.files.filter(f => f.type === 'file' && isDataFile(f.path)).map(f => f.path);
  const editing = !!model.editTarget;
  const errors = validate(model.values, schema);
  const shown = visibleErrors(errors, state.fields, state.submitted);
  const touch = (names: string[]) => {
    const next = new Set(state.fields);
    names.filter(Boolean).forEach(n => next.add(n));
    setTouched({ key: formKey, fields: next, submitted: state.submitted });
  };
  const submit = () => {
    if (errors.length) {
      setTouched({ key: formKey, fields: state.fields, submitted: true });
      // the first field to fix gets the keyboard focus
      const first = fieldOf(errors[0]);
      requestAnimationFrame(() => body.current?.querySelector<HTMLElement>(`[id^="dd-form_${first}"]`)?.focus());
      return;
    }
    void (editing ? actions.update() : actions.insert());
  };
  return (
    <section className="dd-Section dd-Form" aria-label={`Template form: ${template.title}`}>
      <div className="dd-Row">
        <button className="dd-Link" onClick={() => model.closeForm()} aria-label="Back from the form">
          ← Back
        </button>
      </div>
      <h3 className="dd-ProjectName" tabIndex={-1} data-dd-autofocus>
        {template.title}
      </h3>
      {template.description && <p className="dd-Description">{template.description}</p>}
      {varDatasets.length > 0 && (
        <div className="dd-KernelFrames">
          {framesOffered ? (
            <p className="dd-Muted" role="status">
              Data frames from the running notebook: {model.frames.map(f => f.name).join(', ')}.
            </p>
          ) : (
            model.framesNote && <p className="dd-Muted">{model.framesNote}</p>
          )}
          <div className="dd-Row">
            <button className="dd-Link" onClick={() => void model.refreshFrames().then(() => model.refreshColumns())} aria-label="Ask the notebook again for its data frames">
              Refresh data frames
            </button>
          </div>
          <div className="dd-Row">
            <label htmlFor="dd-columns-from">Columns from file</label>
            <select id="dd-columns-from" className="dd-Select jp-mod-styled" value={model.columnsFrom} onChange={e => model.setColumnsFrom(e.target.value)}>
              <option value="">{framesOffered ? '(from the data frame)' : '(type column names)'}</option>
              {dataFiles.map(f => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </div>
        </div>
      )}
      <div className="dd-FormBody" ref={body}>
        <FormComponent
          schema={schema}
          uiSchema={uiSchema}
          formData={model.values as any}
          validator={validator as any}
          templates={{ FieldTemplate: LabelledFieldTemplate as any }}
          liveValidate={false}
          noHtml5Validate
          extraErrors={errorSchemaOf(shown, schema) as any}
          showErrorList={false}
          idPrefix="dd-form"
          onBlur={(id: string) => touch([fieldFromId(id, fields)])}
          onChange={e => {
            const values = (e.formData ?? {}) as Record<string, unknown>;
            const changed = changedFields(model.values, values);
            if (changed.length) {
              touch(changed);
            }
            model.setValues(values, validate(values, model.currentSchema()).length);
          }}
        />
      </div>
      <div className="dd-Row dd-Actions">
        {editing ? (
          <button className="jp-Button jp-mod-styled jp-mod-accept dd-Button dd-Update" disabled={model.busy} onClick={submit}>
            Update cell
          </button>
        ) : (
          <button
            className="jp-Button jp-mod-styled jp-mod-accept dd-Button dd-Insert"
            disabled={model.busy || !!model.insertBlocked}
            aria-describedby={model.insertBlocked ? 'dd-insert-blocked' : undefined}
            onClick={submit}
          >
            Insert
          </button>
        )}
        {!editing && (
          <button className="jp-Button jp-mod-styled dd-Button" onClick={() => model.discardDraft()}>
            Reset
          </button>
        )}
      </div>
      {!editing && model.insertBlocked && (
        <p id="dd-insert-blocked" className="dd-Muted dd-InsertBlocked" role="status">
          {model.insertBlocked}
          {model.onSaveCopy && (
            <>
              {' '}
              <button className="dd-Link dd-SaveCopy" onClick={() => model.onSaveCopy?.()}>
                Save a copy in a project…
              </button>
            </>
          )}
        </p>
      )}
      {state.submitted && errors.length > 0 && (
        <p className="dd-Muted dd-FormStatus" role="status">
          Fix the {new Set(errors.map(fieldOf)).size} marked field{new Set(errors.map(fieldOf)).size > 1 ? 's' : ''} to {editing ? 'update' : 'insert'} the cell.
        </p>
      )}
    </section>
  );
}
