"""Serving the dashboard with Voilà: ``prospects serve`` (docs/access.md, docs/deployment.md).

One module per part, each imported only where it is needed (the server's modules need
jupyter_server and Voilà; :mod:`.command` imports them only when it serves):

* :mod:`.command` — the ``serve`` command: its options and their checks, the demo logins,
  the address printed once the server listens;
* :mod:`.app` — the Voilà application: built, hardened after any configuration file, the
  handlers it replaces, the watches started with the event loop;
* :mod:`.identity` — who is viewing: the identity providers of ``--auth local`` and
  ``--auth header``, the login source of each mode, the directory check before any kernel,
  the login injected into the notebook by the prelaunch hook;
* :mod:`.hub` — ``--auth hub``: a JupyterHub single-user server (the Hub's OAuth);
* :mod:`.kernels` — whose each kernel is (ownership, the authorizer, the shutdown call),
  the pool of warm kernels, kernels held for nothing, CPU priority;
* :mod:`.admission` — how many pages open at once, in arrival order, and the event-loop watch;
* :mod:`.page` — the dashboard page: wait your turn, get a kernel, run the notebook, never blank;
* :mod:`.assets` — what the page loads: from the server's own origin only, no path outside
  the asset folders, gzipped once, cached, the scripts it needs preloaded;
* :mod:`.websocket` — the kernel websocket: the v1 protocol only, every frame checked, an
  error the kernel reports sent as one short sentence.

How the viewer's identity reaches the kernel
--------------------------------------------
A *login source* is a function ``(request_handler) -> login | None`` called by Voilà's
prelaunch hook for every page request, before the kernel starts. The hook injects the
login into the notebook as a Python literal written with :func:`json.dumps` (a cell
placed right after the notebook's ``parameters`` cell, like papermill does), so the
kernel's ``login`` comes from the server only — never from the query string, a header
the server does not trust, or a widget. A source returning ``None`` gets no page (403).

Every request is first authenticated by a jupyter_server ``IdentityProvider``, for the
page and for every endpoint that reaches a kernel (its websocket, the kernel REST API,
Voilà's shutdown call):

* ``--auth local``: one viewer for the whole server, which listens on the loopback
  interface only (the demo mode);
* ``--auth header``: the login in a header set by an authenticating reverse proxy
  (``--header-name``, default ``X-Forwarded-User``), trusted only from the proxy's
  addresses; no header, no page (403);
* ``--auth hub``: the JupyterHub user owning this single-user server
  (``JUPYTERHUB_USER``), each request authenticated with the Hub.

A login unknown to the directory or inactive gets the "Accès refusé" page (403) before
any kernel starts. Each kernel is usable only by the identity whose page started it.

Server-wide settings (database URL, today, locale, fiscal-year start) reach the kernel
through the environment (``PROSPECTS_*``, read by :mod:`prospects.config`): Voilà starts
each kernel with the server's environment. They are the same for every viewer.

Hardening: 127.0.0.1 unless told otherwise (``--auth local``: always), no tracebacks or
sources sent to the browser (not even from a widget message that fails in the kernel), template and theme overrides from the URL off, only the
dashboard notebook served and no other file, kernel websockets in the v1 protocol only with
every frame checked, a timeout per cell, idle kernels culled, kernels over Unix sockets, no
framing by other sites (``Content-Security-Policy: frame-ancestors 'self'``), no token or
login form, refusals as a short page.

Capacity (many people at once, docs/deployment.md "Capacity"): the page handler lets
``--opening-limit`` pages run at once and queues the others (in turn between logins), takes warm kernels from a
pool (``--pool-size``), never leaves a page blank, and gives back the kernels of pages that
never connect (``--connect-timeout``) or beyond ``--kernels-per-login``.
"""
