"""Binaries from Debian packages that the dev tools start, installed with apt when missing.

``scripts/system-deps.sh <group>`` knows which package each group needs; here only where the
binary lands.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def binary(name: str, group: str, error: type[Exception] = RuntimeError) -> str:
    """The path of ``name``; runs ``scripts/system-deps.sh group`` first when it is not installed."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if found is None:
        subprocess.run([str(REPO / "scripts" / "system-deps.sh"), group], check=True)
        found = shutil.which(name) or f"/usr/bin/{name}"
    if not Path(found).exists():
        raise error(f"no {name} found after scripts/system-deps.sh {group}")
    return found
