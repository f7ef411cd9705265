"""The layouts as objects: each one's properties, found by name."""

from __future__ import annotations

import pytest

from hatch_pyc.core import layouts
from hatch_pyc.core.layouts import ALONGSIDE, SOURCELESS, ZIP, ZIPAPP


def test_each_layout_by_its_name() -> None:
    assert [layouts.layout(name) for name in ("alongside", "sourceless", "zip", "zipapp")] == [
        ALONGSIDE,
        SOURCELESS,
        ZIP,
        ZIPAPP,
    ]
    assert layouts.WHEEL_LAYOUTS == ("alongside", "sourceless", "zip")
    assert str(ZIP) == "zip"


@pytest.mark.parametrize("name", ["flat", "", ["zip"], None])
def test_another_name_is_refused_naming_the_layouts(name: object) -> None:
    with pytest.raises(ValueError, match=r"is none of alongside, sourceless, zip, zipapp$"):
        layouts.layout(name)


@pytest.mark.parametrize(
    ("layout", "properties"),
    [
        (ALONGSIDE, (True, False, False, False, False, False)),
        (SOURCELESS, (False, True, False, True, True, False)),
        (ZIP, (False, True, True, True, True, False)),
        (ZIPAPP, (False, True, True, False, False, True)),
    ],
)
def test_properties(layout: layouts.Layout, properties: tuple[bool, ...]) -> None:
    names = ("keeps_sources", "legacy", "archive", "selector", "interpreter_tag", "bundle")
    assert tuple(getattr(layout, name) for name in names) == properties


def test_several_interpreters_only_where_a_selector_chooses() -> None:
    assert [layout.several(2) for layout in (ALONGSIDE, SOURCELESS, ZIP, ZIPAPP)] == [False, True, True, False]
    assert not SOURCELESS.several(1)


def test_legacy_bytecode_ships_at_the_lowest_level_unless_some_module_keeps_its_source() -> None:
    assert ALONGSIDE.shipped_levels((2, 0), kept=False) == [2, 0]
    assert SOURCELESS.shipped_levels((2, 1), kept=False) == [1]
    assert ZIP.shipped_levels((2, 1), kept=True) == [2, 1]
