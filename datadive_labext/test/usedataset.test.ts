// Which projects "Use in another project" offers (pure; no JupyterLab runtime needed).
jest.mock('@jupyterlab/apputils', () => ({ Dialog: {}, Notification: {}, showDialog: jest.fn() }));
jest.mock('@lumino/widgets', () => ({ Widget: class {} }));

import { linkTargets } from '../src/usedataset';

describe('linkTargets', () => {
  it('offers live projects the user edits, never the source', () => {
    const projects = [
      { id: 'src', name: 'Source', role: 'owner' },
      { id: 'e', name: 'Edited', role: 'editor' },
      { id: 'o', name: 'Owned', role: 'owner' },
      { id: 'v', name: 'Viewed', role: 'viewer' },
      { id: 'd', name: 'Deleted', role: 'owner', deleted: true }
    ];
    expect(linkTargets(projects, 'src').map(p => p.id)).toEqual(['e', 'o']);
    expect(linkTargets([], 'src')).toEqual([]);
  });
});
