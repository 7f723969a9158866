"""The mutation check (tests/mutation/run.py, run by hand) still applies to the code: every mutant's
pattern occurs exactly once in its file and its tests exist. Nothing is mutated or run here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mutation import run


def test_every_mutant_still_applies_to_the_current_code() -> None:
    assert run.check_patterns() == []


def test_there_are_enough_mutants_with_distinct_names_each_with_two_test_files() -> None:
    assert len(run.MUTANTS) >= 10
    assert len({mutant.name for mutant in run.MUTANTS}) == len(run.MUTANTS)
    for mutant in run.MUTANTS:
        assert mutant.old != mutant.new, mutant.name
        assert len(set(mutant.tests)) >= 2 or "tests/test_flow_oracle.py" in mutant.tests, mutant.name


def test_a_pattern_that_no_longer_matches_is_reported(tmp_path: Path) -> None:
    mutant = run.MUTANTS[0]
    (tmp_path / mutant.path).parent.mkdir(parents=True)
    (tmp_path / mutant.path).write_text("refactored away\n")
    for test in mutant.tests:
        (tmp_path / test).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / test).write_text("")
    assert run.check_patterns(tmp_path, (mutant,)) == [
        f"{mutant.name}: pattern found 0 times in {mutant.path} (expected once)"
    ]
    with pytest.raises(run.PatternMissing):
        run.mutated_text(mutant, mutant.old * 2)
