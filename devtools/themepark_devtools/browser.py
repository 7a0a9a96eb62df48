"""A headless Chromium for the coverage view's browser test: Debian's package, driven by playwright.

Playwright's own browser download is not reachable here, and a pinned Debian package is what CI
installs anyway (scripts/system-deps.sh browser).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def chromium_path() -> str:
    """The chromium binary; installed with apt by scripts/system-deps.sh browser when missing."""
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        subprocess.run([str(REPO / "scripts" / "system-deps.sh"), "browser"], check=True)
        found = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        raise RuntimeError("no chromium found after scripts/system-deps.sh browser")
    return found


def launch(playwright: Any) -> Any:
    """A headless Chromium; as root it needs --no-sandbox (Chromium refuses to sandbox as root)."""
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
