"""The platform's go-live per rule and region in regions.toml (R3 ``volume_completion_from``, R4
``non_winning_cap_from``): validated at load, inherited by a region's later assignments."""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from jicai_policy import load_policy_book
from jicai_policy.errors import PolicyFileError
from jicai_policy.loading import PACKAGED_PROFILE_DIR

GUIZHOU = 'source = "000_0b8eb23f70a351bf.txt (黔医保发〔2020〕30号, 2020-04-14)"\n'
SHANDONG = 'source = "001_450b5b2068b38bb5.txt §一 (SD-YPDL2020-1 executed from 2021-02-01)"\n'


def policy_dir(tmp_path: Path, after: str, added: str) -> Path:
    directory = tmp_path / "policy"
    shutil.copytree(PACKAGED_PROFILE_DIR, directory)
    regions = directory / "regions.toml"
    text = regions.read_text(encoding="utf-8")
    assert after in text
    regions.write_text(text.replace(after, after + added), encoding="utf-8")
    return directory


def test_the_packaged_mapping_has_r4_and_reports_live_from_each_profile_s_first_day_and_r3_nowhere() -> None:
    book = load_policy_book(PACKAGED_PROFILE_DIR, calendar_overrides=())
    guiyang = book.entry_for("520100", on=date(2026, 10, 1))
    assert (guiyang.non_winning_cap_from, guiyang.volume_completion_from) == (date(2020, 4, 14), None)
    assert book.entry_for("500099", on=date(2026, 1, 1)).non_winning_cap_from == date(2019, 3, 20)  # inherited into Liangjiang
    wuhan = book.entry_for("420100", on=date(2026, 1, 1))
    assert (wuhan.non_winning_cap_from, wuhan.manufacturer_report_from) == (None, date(2019, 12, 1))  # no cap (003 §四(七)); reports §五(二)
    assert not any(e.volume_completion_from for entries in book.regions.values() for e in entries)


@pytest.mark.parametrize(
    ("after", "added", "field", "reason"),
    [
        pytest.param(GUIZHOU, "volume_completion_from = 2020-01-01\n", "assignment.0.volume_completion_from", "before the assignment's effective_from",
                     id="before the assignment takes effect"),
        pytest.param(SHANDONG, "volume_completion_from = 2026-01-01\n", "assignment.2.volume_completion_from", "no [volume_completion] section",
                     id="shandong has no R3 to go live with"),
        pytest.param(SHANDONG, "non_winning_cap_from = 2026-01-01\n", "assignment.2.non_winning_cap_from", "no [non_winning_cap] section",
                     id="shandong has no R4 cap"),
        pytest.param(GUIZHOU, 'volume_completion_from = "soon"\n', "assignment.0.volume_completion_from", "", id="not a date"),
        pytest.param(GUIZHOU, "manufacturer_report_from = 2026-01-01\n", "assignment.0.manufacturer_report_from",
                     "no [manufacturer_report] section", id="guizhou requires no monthly report"),
    ],
)
def test_a_wrong_go_live_is_refused_at_load_naming_the_field(tmp_path: Path, after: str, added: str, field: str, reason: str) -> None:
    with pytest.raises(PolicyFileError) as refused:
        load_policy_book(policy_dir(tmp_path, after, added), calendar_overrides=())
    [(problem_field, problem_reason)] = refused.value.problems
    assert problem_field == field and reason in problem_reason


def test_a_later_assignment_keeps_the_region_s_go_live(tmp_path: Path) -> None:
    later = (
        '\n[[assignment]]\nprofile_id = "guizhou-2020"\nversion = 1\neffective_from = 2028-01-01\nsource = "test"\n'
        '\n[assignment.regions]\n520100 = "贵阳市"\n'
    )
    directory = policy_dir(tmp_path, GUIZHOU, "volume_completion_from = 2026-01-01\n")
    (directory / "regions.toml").write_text((directory / "regions.toml").read_text(encoding="utf-8") + later, encoding="utf-8")

    book = load_policy_book(directory, calendar_overrides=())

    assert book.entry_for("520100", on=date(2028, 3, 31)).volume_completion_from == date(2026, 1, 1)
