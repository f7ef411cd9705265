"""Read the tips file through importlib.resources, which works from any install."""

from __future__ import annotations

from importlib.resources import files


def load_tips() -> list[str]:
    text = files("example_app.tips").joinpath("tips.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def pick_tip(index: int) -> str:
    tips = load_tips()
    return tips[index % len(tips)]
