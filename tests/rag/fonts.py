"""The font the document factories draw text with: DejaVu covers French accents (apt: fonts-dejavu-core)."""

from __future__ import annotations

from pathlib import Path

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
