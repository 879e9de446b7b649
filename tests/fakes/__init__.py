"""Test doubles shared by the whole suite: a real fake OpenAI-compatible upstream server."""

from tests.fakes.openai_upstream import FakeUpstream, Faults, closed_port_url, fake_reply, fake_tokens

__all__ = ["FakeUpstream", "Faults", "closed_port_url", "fake_reply", "fake_tokens"]
