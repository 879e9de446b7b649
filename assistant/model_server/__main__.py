"""``python -m assistant.model_server --spec JSON [--fd N | --host H --port P]``: how a supervisor starts us."""

from __future__ import annotations

import argparse
import logging
import warnings

from assistant.llm._server_spec import ServerSpec
from assistant.model_server._process import serve_model


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m assistant.model_server")
    parser.add_argument("--spec", required=True, help="ServerSpec as JSON")
    parser.add_argument("--fd", type=int, default=None, help="Inherited listening socket")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--exit-with-stdin", action="store_true")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args()
    # llama-cpp-python leaves /dev/null handles to the interpreter's exit; nobody can act on that warning.
    warnings.filterwarnings("ignore", category=ResourceWarning)
    logging.basicConfig(level=args.log_level, format="%(asctime)s model-server %(levelname)s %(message)s")
    serve_model(
        ServerSpec.model_validate_json(args.spec),
        fd=args.fd,
        host=args.host,
        port=args.port,
        exit_with_stdin=args.exit_with_stdin,
    )


if __name__ == "__main__":
    main()
