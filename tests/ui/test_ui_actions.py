"""Actions are typed attributes built from the one ACTIONS table."""
from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtGui import QKeySequence

from inpaint_studio.ui.actions import ACTIONS, Actions, build_actions


def test_one_attribute_per_row_in_table_order():
    rows = [row[0] for row in ACTIONS]
    assert len(set(rows)) == len(rows)
    assert [f.name for f in dataclasses.fields(Actions)] == rows


def test_built_actions_carry_their_row(qapp):
    actions = build_actions(None)
    by_row = {row[0]: row for row in ACTIONS}
    for field in dataclasses.fields(Actions):
        action = getattr(actions, field.name)
        _, text, keys, _, _, checkable = by_row[field.name]
        assert action.text() == text and action.isCheckable() == checkable
        if keys:
            first = keys if isinstance(keys, str) else keys[0]
            assert action.shortcut() == QKeySequence(first)
    assert actions.undo.shortcut().toString() == "Ctrl+Z"
    assert actions.variations == (actions.variation_1, actions.variation_2, actions.variation_3)
    assert actions.named("tool_heal") is actions.tool_heal
    assert actions.all()[0] is actions.open and len(actions.all()) == len(ACTIONS)
    with pytest.raises(KeyError):
        actions.named("variations")  # a helper, not an action
    with pytest.raises(dataclasses.FrozenInstanceError):
        actions.run = actions.cancel


def test_every_tool_of_the_window_has_its_action(window):
    for name, tool in window.tools.items():
        window.act.named(name).trigger()
        assert window.canvas.tool is tool
