"""Why a web page is not rendered as asked. Raised by the page policies, turned into pages by handlers.

They are presentation-level outcomes, not domain errors: the API answers the same situations with the JSON
envelope (401/403), while a browser gets a redirection to the login page or a readable French page::

    WebPageError
     ├── LoginRequiredError     no valid session: redirect (303) to the login page, then back
     ├── CharterRequiredError   the current usage charter is not accepted yet: redirect (303) to it, then back
     └── PageForbiddenError     signed in, but the role lacks the page's permission: 403 page
"""

from __future__ import annotations

__all__ = ["CharterRequiredError", "LoginRequiredError", "PageForbiddenError", "WebPageError"]


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


class CharterRequiredError(WebPageError):
    """The page uses the assistant and the signed-in user has not accepted the charter in force (or a new version).

    ``next_path`` is where to come back once it is accepted.
    """

    def __init__(self, next_path: str) -> None:
        super().__init__("Acceptation de la charte d'utilisation requise.")
        self.next_path = next_path


class PageForbiddenError(WebPageError):
    """The signed-in user's role does not grant the page's permission (e.g. an auditor on the chat page)."""
