"""``jicai-calendar import``: the State Council's holiday notice, as published, into a calendar file.

Both notices are compared day by day with ``chinesecalendar``'s schedule of the same year.
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from typer.testing import CliRunner

from jicai_kit.calendar_cli import app
from jicai_policy import PolicyFileError, parse_calendar_text
from jicai_policy.notice import read_notice, statutory_holidays, to_toml

NOTICES = Path(__file__).parent / "data" / "holiday-notices"


def every_day(year: int) -> list[date]:
    return [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]


@pytest.mark.parametrize("year", [2026, 2017])
def test_a_notice_gives_the_working_days_chinesecalendar_has(year: int) -> None:
    calendar = read_notice((NOTICES / f"{year}.txt").read_text(encoding="utf-8")).to_year_calendar()

    differing = [d for d in every_day(year) if calendar.is_working_day(d) != chinese_calendar.is_workday(d)]
    assert differing == []
    assert calendar.year == year and calendar.source.startswith(f"国务院办公厅关于{year}年部分节假日安排的通知")


def test_the_older_format_reads_make_up_rest_days_and_its_document_number() -> None:
    calendar = read_notice((NOTICES / "2017.txt").read_text(encoding="utf-8"))

    assert date(2017, 1, 2) in calendar.holidays  # "1月2日（星期一）补休"
    assert calendar.makeup_working_days == (date(2017, 1, 22), date(2017, 2, 4), date(2017, 4, 1), date(2017, 5, 27), date(2017, 9, 30))
    assert calendar.source == "国务院办公厅关于2017年部分节假日安排的通知（国办发明电〔2016〕17号）"


def test_the_written_file_reads_back_as_the_same_calendar() -> None:
    calendar = read_notice((NOTICES / "2026.txt").read_text(encoding="utf-8"))

    assert parse_calendar_text(to_toml(calendar)) == calendar.to_year_calendar()


def test_statutory_holidays_follow_the_decree_in_force_that_year() -> None:
    # 2025 revision: 春节 adds 除夕 (2026-02-16), 劳动节 adds 5月2日
    assert statutory_holidays(2026)["春节"] == (date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19))
    assert statutory_holidays(2026)["劳动节"] == (date(2026, 5, 1), date(2026, 5, 2))
    assert statutory_holidays(2017)["春节"] == (date(2017, 1, 28), date(2017, 1, 29), date(2017, 1, 30))
    assert statutory_holidays(2026)["清明节"] == (date(2026, 4, 5),)


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (("10月1日（周四）至7日（周三）", "10月2日（周五）至7日（周三）"), "国庆节", "statutory holiday not a rest day in the notice: 2026-10-01"),
        (("1月4日（周日）上班", "1月4日（周一）上班"), "元旦", "2026-01-04 is a 日, the notice says 周一"),
        (("共9天", "共8天"), "春节", "9 days, the notice says 共8天"),
        (("9月20日（周日）、", "9月21日、"), "calendar", "must fall on a Saturday or Sunday"),
        (("三、清明节：4月4日（周六）至6日（周一）放假，共3天。\n", ""), "清明节", "the notice has no item for this statutory holiday"),
    ],
)
def test_an_inconsistent_notice_is_refused_naming_the_festival_and_reason(change: tuple[str, str], field: str, reason: str) -> None:
    text = (NOTICES / "2026.txt").read_text(encoding="utf-8")
    assert change[0] in text

    with pytest.raises(PolicyFileError) as refused:
        read_notice(text.replace(change[0], change[1]))

    assert any(f == field and reason in r for f, r in refused.value.problems), refused.value.problems


def test_the_cli_writes_the_calendar_file(tmp_path: Path) -> None:
    out = tmp_path / "cn-2026.toml"

    result = CliRunner().invoke(app, ["import", str(NOTICES / "2026.txt"), "--output", str(out)])

    assert result.exit_code == 0, result.output
    assert parse_calendar_text(out.read_text(encoding="utf-8")).makeup_working_days == frozenset(
        {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)}
    )


def test_the_cli_refuses_an_inconsistent_notice_with_its_problems(tmp_path: Path) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text((NOTICES / "2026.txt").read_text(encoding="utf-8").replace("共9天", "共8天"), encoding="utf-8")

    result = CliRunner().invoke(app, ["import", str(notice)])

    assert result.exit_code != 0 and "共8天" in result.output
