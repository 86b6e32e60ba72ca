"""The demo's sample data, kept as data (demo/data/*.toml) rather than as code: names,
concerns, agencies and logins, and what the agencies hold and say."""

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


@cache
def sample(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / f"{name}.toml").read_text(encoding="utf-8"))
