/**
 * @datadive/labextension: the Datadive panel (left sidebar), its commands, the "Edit" action of
 * generated cells, the sync status-bar item and the settings.
 */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { Dialog, ICommandPalette, InputDialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';
import { LabIcon } from '@jupyterlab/ui-components';

import { DatadiveClient } from './api';
import { registerAssistant } from './assistant';
import { registerHistory } from './history';
import { activeGeneratedCell, insertCells, replaceCell, targetBlocker } from './cells';
import { CurrentProjectReporter } from './landing';
import { copyTargets } from './savecopy';
import { DraftStore, IKeyValueStore, MemoryStore } from './drafts';
import { setServerHasher } from './generatedcells';
import { DEFAULT_SETTINGS, ISettings, PanelModel } from './model';
import { DatadivePanel } from './panel';
import { PreviewOpener } from './previewgrid';
import { SyncStatus } from './status';

const PLUGIN_ID = '@datadive/labextension:plugin';

export namespace CommandIDs {
  export const openPanel = 'datadive:open-panel';
  export const refresh = 'datadive:refresh';
  export const createProject = 'datadive:create-project';
  export const createNotebook = 'datadive:create-notebook';
  export const upload = 'datadive:upload';
  export const templates = 'datadive:templates';
  export const insert = 'datadive:insert';
  export const editCell = 'datadive:edit-cell';
  export const syncDetails = 'datadive:sync-details';
  export const saveCopy = 'datadive:save-copy';
}

export const datadiveIcon = new LabIcon({
  name: 'datadive:logo',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161"><path d="M12 2C7 2 3 3.6 3 5.5v13C3 20.4 7 22 12 22s9-1.6 9-3.5v-13C21 3.6 17 2 12 2zm0 2c4.4 0 7 1.2 7 1.5S16.4 7 12 7 5 5.8 5 5.5 7.6 4 12 4zm7 14.5c0 .3-2.6 1.5-7 1.5s-7-1.2-7-1.5v-3c1.6.9 4.2 1.5 7 1.5s5.4-.6 7-1.5v3zm0-5c0 .3-2.6 1.5-7 1.5s-7-1.2-7-1.5v-3c1.6.9 4.2 1.5 7 1.5s5.4-.6 7-1.5v3z"/></g></svg>'
});

/** Remembers which form was open so a reload reopens it (with its draft). */
const UI_KEY = 'datadive:ui';
/** How often an open project's role is re-read (another owner may change it). */
const ROLE_REFRESH_MS = 10000;

function storage(): IKeyValueStore {
  try {
    window.localStorage.setItem('datadive:probe', '1');
    window.localStorage.removeItem('datadive:probe');
    return window.localStorage;
  } catch {
    return new MemoryStore();
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'The Datadive panel: projects, notebooks, template forms, data preview and sync state.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, IStatusBar, ILayoutRestorer, ILabShell, IRenderMimeRegistry, IDefaultFileBrowser],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    restorer: ILayoutRestorer | null,
    _labShell: ILabShell | null,
    rendermime: IRenderMimeRegistry | null,
    fileBrowser: IDefaultFileBrowser | null
  ) => {
    const { commands, shell } = app;
    const client = new DatadiveClient(app.serviceManager.serverSettings);
    // plain HTTP on a host other than localhost has no Web Crypto: hand-edit checks ask the server
    setServerHasher(source => client.sourceHash(source));
    const store = storage();
    const drafts = new DraftStore(store);
    const user = PageConfig.getOption('hubUser') || '';
    const model = new PanelModel(client, drafts, user);
    // a role another owner changes shows in an open panel without a reload
    const refreshRole = () => {
      if (model.project && model.page !== 'projects' && document.visibilityState !== 'hidden') {
        void model.refreshRole();
      }
    };
    window.setInterval(refreshRole, ROLE_REFRESH_MS);
    window.addEventListener('focus', refreshRole);

    const saveUi = () => {
      const state = model.page === 'form' && model.template && !model.editTarget
        ? { project: model.project?.id ?? null, template: model.template.id, version: model.template.version, columnsFrom: model.columnsFrom }
        : { project: model.page !== 'projects' ? model.project?.id ?? null : null, tab: model.tab };
      store.setItem(UI_KEY, JSON.stringify(state));
    };

    const runInsert = async (): Promise<void> => {
      const started = performance.now();
      const rendered = await model.render();
      if (!rendered) {
        return;
      }
      try {
        insertCells(tracker, rendered.cells, () => commands.notifyCommandChanged(CommandIDs.editCell));
        const ms = performance.now() - started;
        (window as any).datadiveLastInsertMs = ms;
        console.debug(`datadive: rendered and inserted in ${ms.toFixed(0)} ms`);
      } catch (err) {
        model.setError((err as Error).message);
      }
    };

    const runUpdate = async (): Promise<void> => {
      const target = model.editTarget;
      if (!target) {
        return;
      }
      const rendered = await model.render();
      if (!rendered) {
        return;
      }
      try {
        if (await replaceCell(tracker, target.notebookPath, target.cellId, rendered.cells)) {
          commands.notifyCommandChanged(CommandIDs.editCell);
          Notification.success('Cell updated from the form.', { autoClose: 2500 });
          model.closeForm();
        }
      } catch (err) {
        model.setError((err as Error).message);
      }
    };

    /**
     * Get a path of a project through Lab's contents API. The contents manager refreshes its
     * project list every few seconds, so a just-created project's folder may need a moment to
     * appear: retry for up to 15 s, then fail with the server's message.
     */
    const getPath = async (path: string, content: boolean): Promise<void> => {
      const deadline = Date.now() + 15000;
      for (;;) {
        try {
          await app.serviceManager.contents.get(path, { content });
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw err;
          }
          await new Promise(r => setTimeout(r, 500));
        }
      }
    };

    /** Open a file of a project (waiting for its folder, see getPath). */
    const openFile = async (path: string): Promise<void> => {
      try {
        await getPath(path, false);
      } catch (err) {
        const message = `Could not open "${path}": ${(err as Error).message}`;
        model.setError(message);
        return;
      }
      await commands.execute('docmanager:open', { path });
    };

    // After an upload through the service, a listing of the project's folder makes the
    // working copy pull the new files, so kernels (and the file browser) see them at once.
    model.onFilesChanged = project => getPath(model.projectFolder(project), true);

    // Previews open in a main-area tab on Lab's DataGrid (previewgrid.tsx).
    const previews = new PreviewOpener(client, w => shell.add(w, 'main'), id => shell.activateById(id));
    model.openPreview = (projectId, path) => void previews.show(projectId, path);
    // Template forms ask the kernel of the notebook cells go into for its data frames.
    model.kernel = () => tracker.currentWidget?.sessionContext.session?.kernel ?? null;

    const panel = new DatadivePanel(model, {
      openFile: path => void openFile(path),
      // Lab reads the kernel specs at start (then about once a minute): a project kernel built
      // since then would show by its id ("datadive-env-...") instead of "Python (project)"
      kernelsChanged: () => void app.serviceManager.kernelspecs.refreshSpecs(),
      openProjectFolder: project => {
        const path = model.projectFolder(project);
        commands.execute('filebrowser:go-to-path', { path }).catch(err => {
          const message = `Could not open the folder "${path}" of ${project.name}: ${(err as Error).message ?? err}`;
          model.setError(message);
        });
      },
      insert: runInsert,
      update: runUpdate,
      prompt: async (title, label, value) => {
        const result = await InputDialog.getText({ title, label, text: value ?? '' });
        return result.button.accept ? result.value : null;
      },
      confirm: async (title, body, ok) => {
        const result = await showDialog({ title, body, buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: ok })] });
        return result.button.accept;
      }
    });
    panel.title.icon = datadiveIcon;

    // Where Lab's new notebooks and files land when made where the user cannot write: the
    // project open here (the server is told whenever it changes).
    const reporter = new CurrentProjectReporter(client);
    model.changed.connect(() => void reporter.report(model.project?.id ?? null));

    // Insert is refused (and says why) while the current notebook cannot take cells.
    const checkTarget = () => {
      const blocked = targetBlocker(tracker);
      const readOnly = !!tracker.currentWidget && !!blocked && blocked.includes('read-only');
      if (blocked !== model.insertBlocked || readOnly !== !!model.onSaveCopy) {
        model.insertBlocked = blocked;
        model.onSaveCopy = readOnly ? () => void commands.execute(CommandIDs.saveCopy) : null;
        model.emit();
        commands.notifyCommandChanged(CommandIDs.insert);
      }
    };
    tracker.currentChanged.connect(checkTarget);
    tracker.widgetAdded.connect((_, nb) => {
      void nb.context.ready.then(checkTarget);
      nb.context.fileChanged.connect(checkTarget);
    });
    model.changed.connect(checkTarget);
    // What was open before this page load; read now, before the first emit overwrites it.
    let savedUi: any = null;
    try {
      savedUi = JSON.parse(store.getItem(UI_KEY) || 'null');
    } catch {
      savedUi = null;
    }
    shell.add(panel, 'left', { rank: 150 });
    if (restorer) {
      restorer.add(panel, 'datadive-panel');
    }

    let sync: SyncStatus | null = null;
    if (statusBar) {
      sync = new SyncStatus(client, () => new Map(model.projects.map(p => [p.id, p.name])));
      statusBar.registerStatusItem('@datadive/labextension:sync', { item: sync, align: 'left', rank: 5 });
      sync.start(DEFAULT_SETTINGS.syncPollSeconds);
    }

    // ---- settings -------------------------------------------------------------------------------
    const applySettings = (settings: ISettingRegistry.ISettings) => {
      const before = model.applySettings(settings.composite as Partial<Record<keyof ISettings, unknown>>);
      if (sync && before.syncPollSeconds !== model.settings.syncPollSeconds) {
        sync.start(model.settings.syncPollSeconds);
      }
    };
    /** Resolves once the settings are in force (drafts are read with the configured age). */
    const settingsLoaded: Promise<void> = settingRegistry
      ? settingRegistry
          .load(PLUGIN_ID)
          .then(settings => {
            applySettings(settings);
            settings.changed.connect(applySettings);
          })
          .catch(reason => {
            const message = `Datadive could not load its settings, so it uses the defaults: ${(reason as Error)?.message ?? reason}`;
            console.error(message, reason);
            Notification.warning(message, { autoClose: 8000 });
          })
      : Promise.resolve();

    // First load, then reopen what was open before a reload (a half-filled form keeps its draft).
    let loadedOnce = false;
    const firstLoad = async () => {
      if (loadedOnce) {
        return;
      }
      loadedOnce = true;
      const t0 = performance.now();
      await Promise.all([
        model.loadProjects().then(() => ((window as any).datadiveProjectsLoadedMs = performance.now() - t0)),
        settingsLoaded
      ]);
      const ui = savedUi;
      try {
        await restoreUi(ui);
      } finally {
        model.changed.connect(saveUi);
      }
    };
    const restoreUi = async (ui: any) => {
      if (ui?.project && model.projects.some(p => p.id === ui.project)) {
        await model.openProject(ui.project);
        if (ui.tab) {
          model.tab = ui.tab;
          if (ui.tab === 'templates') {
            await model.loadTemplates();
          } else if (ui.tab === 'members') {
            await model.loadMembers();
          }
        }
      }
      if (ui?.template) {
        model.columnsFrom = ui.columnsFrom || '';
        await model.loadTemplates();
        await model.openForm(ui.template, { version: ui.version });
      }
    };
    // Every later opening refreshes the list (projects shared meanwhile appear).
    panel.onShow = () => void (loadedOnce ? model.loadProjects() : firstLoad());
    // Load the project list as soon as Lab is up (also while the panel is closed), so that
    // opening the panel shows it at once; each opening then refreshes it in the background.
    // The setting "prefetchProjects" (default on) turns this off: then the first opening loads it.
    void Promise.all([app.restored, settingsLoaded]).then(() => {
      if (model.settings.prefetchProjects) {
        void firstLoad();
      }
    });

    const showPanel = () => {
      shell.activateById(panel.id);
      void firstLoad();
    };

    // ---- commands -------------------------------------------------------------------------------
    commands.addCommand(CommandIDs.openPanel, {
      label: 'Datadive: Open Panel',
      caption: 'Show the Datadive panel (projects, notebooks, templates)',
      icon: datadiveIcon,
      execute: showPanel
    });
    commands.addCommand(CommandIDs.refresh, {
      label: 'Datadive: Refresh Projects',
      execute: async () => {
        await model.loadProjects();
        await model.loadProjectContent();
      }
    });
    commands.addCommand(CommandIDs.createProject, {
      label: 'Datadive: New Project…',
      execute: async () => {
        showPanel();
        const result = await InputDialog.getText({ title: 'New Datadive project', label: 'Project name', placeholder: 'e.g. Sleep study 2026' });
        if (result.button.accept && result.value?.trim()) {
          await model.createProject(result.value);
        }
      }
    });
    commands.addCommand(CommandIDs.createNotebook, {
      label: 'Datadive: New Notebook in Project…',
      isEnabled: () => !!model.project,
      execute: async () => {
        showPanel();
        const result = await InputDialog.getText({ title: `New notebook in ${model.project?.name}`, label: 'Notebook name', placeholder: 'analysis.ipynb' });
        if (result.button.accept && result.value?.trim()) {
          const nb = await model.createNotebook(result.value);
          if (nb && model.project) {
            await openFile(`${model.projectFolder(model.project)}/${nb.path ?? nb.name}`);
          }
        }
      }
    });
    commands.addCommand(CommandIDs.upload, {
      label: 'Datadive: Upload Files to Project…',
      isEnabled: () => !!model.project,
      execute: () => {
        showPanel();
        model.page = 'project';
        model.tab = 'files';
        model.emit();
        requestAnimationFrame(() => (document.getElementById('dd-upload-input') as HTMLInputElement | null)?.click());
      }
    });
    commands.addCommand(CommandIDs.templates, {
      label: 'Datadive: Template Gallery',
      isEnabled: () => !!model.project,
      execute: async () => {
        showPanel();
        model.page = 'project';
        model.tab = 'templates';
        model.emit();
        await model.loadTemplates();
        document.getElementById('dd-template-search')?.focus();
      }
    });
    commands.addCommand(CommandIDs.insert, {
      label: 'Datadive: Insert Template Cell',
      isEnabled: () => model.page === 'form' && !!model.template && !model.editTarget && model.formErrors === 0 && !model.insertBlocked,
      execute: runInsert
    });
    commands.addCommand(CommandIDs.editCell, {
      label: 'Edit with Datadive Form',
      caption: 'Reopen the template form of this generated cell and regenerate it in place',
      icon: datadiveIcon,
      isVisible: () => !!activeGeneratedCell(tracker),
      isEnabled: () => !!activeGeneratedCell(tracker),
      execute: async () => {
        const found = activeGeneratedCell(tracker);
        if (!found || !found.meta) {
          Notification.warning('The active cell was not generated from a Datadive template.', { autoClose: 4000 });
          return;
        }
        showPanel();
        if (!model.templatesLoaded) {
          await model.loadTemplates();
        }
        if (!model.project && found.meta.project) {
          await model.openProject(String(found.meta.project));
        }
        await model.openForm(found.meta.template, {
          version: found.meta.version,
          values: found.meta.values,
          edit: { notebookPath: found.path, cellId: found.cellId }
        });
      }
    });
    tracker.activeCellChanged.connect(() => commands.notifyCommandChanged(CommandIDs.editCell));
    const assistantCommands = registerAssistant(app, tracker, model, showPanel);
    // Versions, read-only versions, comparisons, restores, "Recently deleted" (history.tsx)
    const historyCommand = registerHistory(app, model, rendermime, fileBrowser, async (title, body, ok) => {
      const result = await showDialog({ title, body, buttons: [Dialog.cancelButton(), Dialog.okButton({ label: ok })] });
      return result.button.accept;
    });

    commands.addCommand(CommandIDs.saveCopy, {
      label: 'Datadive: Save a Copy in a Project…',
      caption: 'Copy the current notebook into a project you can write to, and open the copy',
      isEnabled: () => !!tracker.currentWidget,
      execute: async () => {
        const current = tracker.currentWidget;
        if (!current) {
          return;
        }
        const targets = copyTargets(model.projects, model.project, p => model.projectFolder(p));
        if (!targets.length) {
          model.setError('You cannot write to any project yet: create one in the Datadive panel, then save the copy there.');
          return;
        }
        const choice = await InputDialog.getItem({
          title: `Save a copy of ${current.context.path.split('/').pop()}`,
          label: 'Project',
          items: targets,
          current: targets[0]
        });
        if (!choice.button.accept || !choice.value) {
          return;
        }
        try {
          const copy = await app.serviceManager.contents.copy(current.context.path, choice.value);
          await commands.execute('docmanager:open', { path: copy.path });
        } catch (err) {
          model.setError(`Could not save a copy in "${choice.value}": ${(err as Error).message}`);
        }
      }
    });

    commands.addCommand(CommandIDs.syncDetails, {
      label: 'Datadive: Storage Sync Details',
      execute: () => sync?.showDetails()
    });

    if (palette) {
      const category = 'Datadive';
      for (const command of [
        CommandIDs.openPanel,
        CommandIDs.refresh,
        CommandIDs.createProject,
        CommandIDs.createNotebook,
        CommandIDs.upload,
        CommandIDs.templates,
        CommandIDs.insert,
        CommandIDs.editCell,
        CommandIDs.syncDetails,
        CommandIDs.saveCopy,
        ...assistantCommands,
        historyCommand
      ]) {
        palette.addItem({ command, category });
      }
    }


  }
};

export default plugin;
