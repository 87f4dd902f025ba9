"""Which recipe an export records: a checkpoint's own, else its training folder's."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from rag.read.export import recipe_of


def test_a_checkpoint_folder_takes_the_recipe_beside_it(tmp_path: Path) -> None:
    (tmp_path / "recipe.json").write_text(json.dumps({"max_length": 192}))
    (tmp_path / "checkpoint-8").mkdir()
    assert recipe_of(tmp_path / "checkpoint-8") == {"max_length": 192}


def test_its_own_recipe_comes_first(tmp_path: Path) -> None:
    (tmp_path / "recipe.json").write_text(json.dumps({"max_length": 192}))
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "recipe.json").write_text(json.dumps({"max_length": 128}))
    assert recipe_of(tmp_path / "final") == {"max_length": 128}


def test_no_recipe_is_one_line_naming_the_folder(tmp_path: Path) -> None:
    (tmp_path / "weights").mkdir()
    with pytest.raises(click.ClickException, match="weights: no recipe.json") as e:
        recipe_of(tmp_path / "weights")
    assert "\n" not in e.value.message
