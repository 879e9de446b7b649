"""The embedded model's own process: an OpenAI-compatible server around llama.cpp.

Native code that can crash (llama.cpp) runs only here, never in the API process: the API reaches this server
over HTTP on 127.0.0.1 with the same backend code as vLLM (:mod:`assistant.llm.embedded`, whose supervisor
starts, watches and replaces this process), so a crash costs only the answers in flight.
"""

from assistant.model_server._process import serve_model

__all__ = ["serve_model"]
