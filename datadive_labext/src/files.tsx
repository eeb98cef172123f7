/**
 * A project's files: new notebook, upload, open, preview, publish, the trash and public links.
 */
import * as React from 'react';

import { formatBytes, isDataFile, isNotebook, percent } from './format';
import { TrashSection } from './history';
import { LinksList } from './links';
import type { PanelModel } from './model';
import type { IPanelActions } from './panelactions';
import { publishWithDialogs } from './publish';
import { canEdit } from './roles';
import type { IFileEntry, IProject } from './types';
import { useInAnotherProject } from './usedataset';

export function FilesView({ model, actions, project }: { model: PanelModel; actions: IPanelActions; project: IProject }): JSX.Element {
  const [nbName, setNbName] = React.useState('');
  const fileInput = React.useRef<HTMLInputElement>(null);
  const editable = canEdit(project.role as string);
  const folder = model.projectFolder(project);
  const open = (f: IFileEntry) => actions.openFile(`${folder}/${f.path}`);
  const upload = model.upload;
  return (
    <div>
      {editable && (
        <form
          className="dd-Row"
          onSubmit={async e => {
            e.preventDefault();
            const nb = await model.createNotebook(nbName);
            if (nb) {
              setNbName('');
              actions.openFile(`${folder}/${nb.path ?? nb.name}`);
            }
          }}
        >
          <label htmlFor="dd-new-notebook" className="dd-VisuallyHidden">
            New notebook name
          </label>
          <input id="dd-new-notebook" className="dd-Input jp-mod-styled" placeholder="New notebook name" value={nbName} onChange={e => setNbName(e.target.value)} />
          <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept dd-Button" disabled={!nbName.trim() || model.busy}>
            New notebook
          </button>
        </form>
      )}
      {editable && (
        <div className="dd-Row">
          <input
            ref={fileInput}
            id="dd-upload-input"
            type="file"
            multiple
            className="dd-VisuallyHidden"
            aria-label="Choose files to upload"
            onChange={e => {
              const files = Array.from(e.target.files || []);
              e.target.value = '';
              if (files.length) {
                void model.uploadFiles(files);
              }
            }}
          />
          <button className="jp-Button jp-mod-styled dd-Button" onClick={() => fileInput.current?.click()}>
            Upload files…
          </button>
          <button className="jp-Button jp-mod-styled dd-Button" onClick={() => void model.loadProjectContent()} aria-label="Refresh the files of this project">
            Refresh
          </button>
        </div>
      )}
      {upload && (
        <div className="dd-Upload">
          <label htmlFor="dd-upload-progress">Uploading {upload.name}</label>
          <progress id="dd-upload-progress" className="dd-Progress" max={100} value={percent(upload.loaded, upload.total)}>
            {percent(upload.loaded, upload.total)}%
          </progress>
          <span className="dd-Muted">
            {percent(upload.loaded, upload.total)}% of {formatBytes(upload.total)}
          </span>
          {upload.error && (
            <button className="dd-Link" onClick={() => { model.upload = null; model.emit(); }}>
              Close
            </button>
          )}
        </div>
      )}
      <h4 className="dd-GroupTitle" id="dd-notebooks-title">
        Notebooks
      </h4>
      <ul className="dd-List" aria-labelledby="dd-notebooks-title">
        {model.notebooks.map(nb => (
          <li key={nb.path} className="dd-Item dd-Notebook">
            <button className="dd-ItemMain" onClick={() => open(nb)} aria-label={`Open notebook ${nb.path}`}>
              <span className="dd-ItemName">{nb.path}</span>
            </button>
            {model.openVersions && (
              <button className="dd-Link" onClick={() => model.openVersions?.(project, nb.path)} aria-label={`Versions of ${nb.path}`}>
                Versions
              </button>
            )}
            {editable && (
              <button className="dd-Link" onClick={() => void publishWithDialogs(model, nb.path)} aria-label={`Publish ${nb.path} as a public link`}>
                Publish
              </button>
            )}
          </li>
        ))}
        {!model.notebooks.length && <li className="dd-Muted">No notebooks yet.</li>}
      </ul>
      <h4 className="dd-GroupTitle" id="dd-files-title">
        Files
      </h4>
      <ul className="dd-List" aria-labelledby="dd-files-title">
        {model.files
          .filter(f => f.type !== 'directory')
          .map(f => (
            <li key={f.path} className="dd-Item dd-File">
              <button className="dd-ItemMain" onClick={() => open(f)} aria-label={`Open ${f.path}`}>
                <span className="dd-ItemName">{f.path}</span>
                <span className="dd-Muted">{formatBytes(f.size)}</span>
              </button>
              {model.openVersions && (
                <button className="dd-Link" onClick={() => model.openVersions?.(project, f.path)} aria-label={`Versions of ${f.path}`}>
                  Versions
                </button>
              )}
              {isDataFile(f.path) && !isNotebook(f.path) && (
                <button className="dd-Link" onClick={() => void model.showPreview(f.path)} aria-label={`Preview ${f.path}`}>
                  Preview
                </button>
              )}
              {editable && (
                <button className="dd-Link" onClick={() => void publishWithDialogs(model, f.path)} aria-label={`Publish ${f.path} as a public link`}>
                  Publish
                </button>
              )}
              {isDataFile(f.path) && !isNotebook(f.path) && (
                <button className="dd-Link" onClick={() => void useInAnotherProject(model, f.path)} aria-label={`Use ${f.path} in another project`}>
                  Use elsewhere
                </button>
              )}
            </li>
          ))}
        {!model.files.some(f => f.type !== 'directory') && <li className="dd-Muted">No data files yet: upload one.</li>}
      </ul>
      <TrashSection key={project.id} model={model} project={project} editable={editable} />
      <LinksList model={model} editable={editable} />
    </div>
  );
}
