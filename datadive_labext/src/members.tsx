/**
 * A project's members and their roles; owners add, change and remove them.
 */
import * as React from 'react';

import { ActivityList } from './activity';
import type { PanelModel } from './model';
import { isOwner, ROLES } from './roles';
import type { IMember, IProject } from './types';

export function MembersView({ model, project }: { model: PanelModel; project: IProject }): JSX.Element {
  const owner = isOwner(project.role as string);
  const [name, setName] = React.useState('');
  const [kind, setKind] = React.useState<'user' | 'group'>('user');
  const [role, setRole] = React.useState('viewer');
  return (
    <div>
      <ul className="dd-List" aria-label="Members">
        {model.members.map((m: IMember) => (
          <li key={`${m.kind}:${m.name}`} className="dd-Item dd-Member">
            <span className="dd-ItemName">
              {m.name} <span className="dd-Muted">({m.kind})</span>
              {m.pending && (
                <span className="dd-Muted dd-Pending" title="Added before their first sign-in: the role takes effect when they sign in">
                  not signed in yet
                </span>
              )}
            </span>
            {owner ? (
              <>
                <label htmlFor={`dd-role-${m.kind}-${m.name}`} className="dd-VisuallyHidden">
                  Role of {m.name}
                </label>
                <select
                  id={`dd-role-${m.kind}-${m.name}`}
                  className="dd-Select jp-mod-styled"
                  value={m.role}
                  onChange={e => void model.setMemberRole({ ...m, role: e.target.value })}
                >
                  {ROLES.map(r => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
                <button className="dd-Link" onClick={() => void model.removeMember(m)} aria-label={`Remove ${m.name} from the project`}>
                  Remove
                </button>
              </>
            ) : (
              <span className={`dd-Role dd-Role-${m.role}`}>{m.role}</span>
            )}
          </li>
        ))}
      </ul>
      {owner && (
        <form
          className="dd-MemberForm"
          onSubmit={async e => {
            e.preventDefault();
            if (name.trim() && (await model.addMember({ kind, name: name.trim(), role }))) {
              setName('');
            }
          }}
        >
          <label htmlFor="dd-member-kind">Add a</label>
          <select id="dd-member-kind" className="dd-Select jp-mod-styled" value={kind} onChange={e => setKind(e.target.value as 'user' | 'group')}>
            <option value="user">user</option>
            <option value="group">group</option>
          </select>
          <label htmlFor="dd-member-name" className="dd-VisuallyHidden">
            User or group name
          </label>
          <input id="dd-member-name" className="dd-Input jp-mod-styled" placeholder="name" value={name} onChange={e => setName(e.target.value)} />
          <label htmlFor="dd-member-role">as</label>
          <select id="dd-member-role" className="dd-Select jp-mod-styled" value={role} onChange={e => setRole(e.target.value)}>
            {ROLES.map(r => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept dd-Button" disabled={!name.trim()}>
            Add
          </button>
        </form>
      )}
      {owner && <ActivityList model={model} project={project} />}
    </div>
  );
}
