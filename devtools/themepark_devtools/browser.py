"""A headless Chromium for the coverage view's browser test: Debian's package, driven by playwright.

Playwright's own browser download is not reachable here, and a pinned Debian package is what CI
installs anyway (scripts/system-deps.sh browser).
"""

from __future__ import annotations

import os
from typing import Any

from themepark_devtools import system_deps


def chromium_path() -> str:
    """The chromium binary; installed with apt by scripts/system-deps.sh browser when missing."""
    return system_deps.binary("chromium", "browser")


def launch(playwright: Any) -> Any:
    """A headless Chromium; as root it needs --no-sandbox (Chromium refuses to sandbox as root)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
