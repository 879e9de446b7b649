"""Test doubles shared by the whole suite: a real fake OpenAI-compatible upstream server, a note-taking model."""

from tests.fakes.note_taker import NoteTaker
from tests.fakes.openai_upstream import FakeUpstream, Faults, closed_port_url, fake_reply, fake_tokens

__all__ = ["FakeUpstream", "Faults", "NoteTaker", "closed_port_url", "fake_reply", "fake_tokens"]
