"""Why a web page is not rendered as asked. Raised by the page policies, turned into pages by handlers.

They are presentation-level outcomes, not domain errors: the API answers the same situations with the JSON
envelope (401/403), while a browser gets a redirection to the login page or a readable French page::

    WebPageError
     ├── LoginRequiredError     no valid session: redirect (303) to the login page, then back
     └── PageForbiddenError     signed in, but the role lacks the page's permission: 403 page
"""

from __future__ import annotations

__all__ = ["LoginRequiredError", "PageForbiddenError", "WebPageError"]


class WebPageError(Exception):
    """Base of the web pages' outcomes other than the page itself."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginRequiredError(WebPageError):
    """The visitor has no session (or an expired one); ``next_path`` is where to come back after signing in."""

    def __init__(self, next_path: str) -> None:
        super().__init__("Connexion requise.")
        self.next_path = next_path


class PageForbiddenError(WebPageError):
    """The signed-in user's role does not grant the page's permission (e.g. an auditor on the chat page)."""
