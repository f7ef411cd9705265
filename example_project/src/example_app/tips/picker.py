"""Read the tips file through importlib.resources, which works from any install."""

from importlib.resources import files


def load_tips():
    text = files("example_app.tips").joinpath("tips.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def pick_tip(index):
    tips = load_tips()
    return tips[index % len(tips)]
