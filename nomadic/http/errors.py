"""Translate nomadic's exception tree into HTTP answers, the one place that does so.

NotFoundError                 404  plain text ("job not found")
UserError, DecodeError        400  plain text: what is wrong and how to fix it
RoleMissingError              501  plain text: which role this agent lacks
NoLeaderError                 500  "No cluster leader"
other NomadicError            500  its message
anything else                 500  short message with a request ID; traceback in the log
aiohttp HTTPException         as raised (404 unknown path, 405 wrong method)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from nomadic.errors import NoLeaderError, NomadicError, NotFoundError, UserError
from nomadic.http.query import RoleMissingError
from nomadic.structs import DecodeError

__all__ = ["error_middleware"]

log = logging.getLogger("nomadic.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message.rstrip("\n") + "\n")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except NotFoundError as exc:
        return _text(404, str(exc))
    except (UserError, DecodeError) as exc:
        return _text(400, str(exc))
    except RoleMissingError as exc:
        return _text(501, str(exc))
    except NoLeaderError as exc:
        return _text(500, str(exc) or "No cluster leader")
    except NomadicError as exc:
        log.warning("%s %s failed: %s", request.method, request.path, exc)
        return _text(500, str(exc))
    except Exception:
        request_id = uuid.uuid4().hex[:8]
        log.exception("%s %s failed (request %s)", request.method, request.path, request_id)
        return _text(500, f"internal error (request {request_id}); the agent log has details")
