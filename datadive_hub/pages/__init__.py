"""HTML pages of the Datadive service (decision 11, "pages without a server").

Server-rendered in JupyterHub's look, readable while the user's server is stopped: my projects,
a project (files, members, public links, audit log), a file (preview, rendered notebook,
download), a file's versions. Access is decided exactly as for the API (``access.project_for``);
the caller is identified by the same function (``identity.Identified.identify``).
"""

from . import files, projects

#: (pattern relative to the service prefix, handler); the root page is added by service.py
routes = [*projects.routes, *files.routes]
root_handler = projects.MyProjectsPage
