"""A real WsgiDAV server for the source tests, run as its own process: ``_webdav_server.py ROOT LOG USER PASSWORD``.

It serves ROOT under ``/dav/`` with basic authentication, prints the port it bound (0 asks the system for a free
one) and appends ``METHOD PATH`` to LOG for every request, so a test can tell whether a file was downloaded.
Its own process keeps WsgiDAV's warnings and threads out of the test process (which turns warnings into errors).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from cheroot import wsgi
from wsgidav.wsgidav_app import WsgiDAVApp


def main(root: str, log_path: str, user: str, password: str) -> None:
    app = WsgiDAVApp(
        {
            "host": "127.0.0.1",
            "port": 0,
            "provider_mapping": {"/dav": root},
            "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
            "http_authenticator": {"accept_basic": True, "accept_digest": False, "default_to_digest": False},
            "dir_browser": {"enable": False},
            "verbose": 0,
            "logging": {"enable": False},
        }
    )

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}\n")
        return app(environ, start_response)  # type: ignore[no-any-return]

    server = wsgi.Server(("127.0.0.1", 0), logged, numthreads=4)
    server.prepare()
    sys.stdout.write(f"{server.bind_addr[1]}\n")
    sys.stdout.flush()
    server.serve()


if __name__ == "__main__":
    main(*sys.argv[1:5])
