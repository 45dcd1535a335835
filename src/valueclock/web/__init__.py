"""The web dashboard: ``valueclock serve``.

    valueclock serve events.csv --accounts accounts.csv      # http://127.0.0.1:8000
    valueclock serve -w northbeam --host 0.0.0.0 --token "$TOKEN"

:func:`create_app` (in :mod:`valueclock.web.app`) builds the ASGI app over a
:class:`~valueclock.web.data.Dashboard`; :func:`serve` loads the data, measures it once
and runs it with uvicorn. FastAPI, Jinja2 and uvicorn are imported only when serving.
"""

from __future__ import annotations

__all__ = ["serve"]


def serve(*args, **kwargs):  # pragma: no cover - thin wrapper, see command.serve
    """Load, measure and serve; see :func:`valueclock.web.command.run`."""
    from valueclock.web.command import run

    return run(*args, **kwargs)
