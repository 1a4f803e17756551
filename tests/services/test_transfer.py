"""catalogue_export and catalogue_import: round trips, all-or-nothing rejection, versions on change."""

from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from services import actions, search
from services.models import Bundle, Department, DepartmentKind, Region, ServiceItem, Synonym, Theme
from services.transfer import checks, export, formats, importing
from tests.factories import UserFactory
from tests.services.builders import make_department, make_item, make_region, make_theme, make_uscc, version_columns

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]  # the same on the embedded SQLite default

MODELS = (Region, Department, Theme, ServiceItem, Bundle, Synonym)


@pytest.fixture
def catalogue() -> dict[str, Any]:
    """A small catalogue with something in every section."""
    city = make_region()
    county = make_region("330106000000", "西湖区")
    civil = make_department(serial=1, kind=DepartmentKind.CIVIL_AFFAIRS)
    market = make_department(serial=2, kind=DepartmentKind.MARKET_REGULATION, region=county, name="西湖区市场监管局")
    marriage = make_theme("marriage", "婚育收养")
    business = make_theme("start-business", "企业开办", "enterprise")
    wedding = make_item(department=civil, themes=[marriage])
    licence = make_item(
        department=market,
        basic_code="000101000002",
        name="个体工商户登记",
        item_type="01",
        served_parties=["1", "2"],
        themes=[business],
    )
    Bundle.objects.create(
        slug="open-shop",
        name="开店一件事",
        audience="enterprise",
        theme=business,
        item_codes=[licence.implementation_code],
    )
    Synonym.objects.create(term="领证", expansions="结婚登记")
    return {"city": city, "civil": civil, "market": market, "wedding": wedding, "licence": licence}


def _export(*args: str) -> str:
    stdout = io.StringIO()
    call_command("catalogue_export", *args, stdout=stdout)
    return stdout.getvalue()


def _import(path: Path, *args: str) -> str:
    stdout = io.StringIO()
    call_command("catalogue_import", str(path), "--language", "en", *args, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def _rejected_import(path: Path, *args: str) -> tuple[str, str]:
    """Import a file that must be rejected; returns the error and the report."""
    stderr = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("catalogue_import", str(path), "--language", "en", *args, stdout=io.StringIO(), stderr=stderr)
    assert error.value.returncode == 1  # the exit status of manage.py
    return str(error.value), stderr.getvalue()


def _write(path: Path, content: str | dict[str, Any]) -> Path:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def _snapshot() -> dict[str, list[dict[str, Any]]]:
    snapshot = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    snapshot["item themes"] = list(ServiceItem.themes.through.objects.order_by("pk").values())
    return snapshot


def _empty_the_catalogue() -> None:
    ServiceItem.objects.all().delete()
    Bundle.objects.all().delete()
    Synonym.objects.all().delete()
    Department.objects.all().delete()
    for level in (6, 5, 4, 3, 2, 1):
        Region.objects.filter(level=level).delete()
    Theme.objects.all().delete()


# --- Round trips ---


def test_json_round_trip_into_an_empty_database(catalogue, tmp_path):
    exported = _export()
    _empty_the_catalogue()

    output = _import(_write(tmp_path / "catalogue.json", exported))

    assert output.splitlines() == [
        "Regions: 3 created, 0 updated, 0 unchanged.",
        "Departments: 2 created, 0 updated, 0 unchanged.",
        "Themes: 2 created, 0 updated, 0 unchanged.",
        "Service items: 2 created, 0 updated, 0 unchanged.",
        "Bundles: 1 created, 0 updated, 0 unchanged.",
        "Search synonyms: 1 created, 0 updated, 0 unchanged.",
    ]
    assert _export() == exported
    items = ServiceItem.objects.order_by("implementation_code")
    assert [(item.version, item.status, item.for_persons, item.for_enterprises) for item in items] == [
        (1, "published", True, False),
        (1, "published", True, True),
    ]
    assert Region.objects.get(code="330106000000").parent == Region.objects.get(code="330100000000")


def test_json_export_is_the_documented_shape(catalogue):
    document = json.loads(_export())

    assert list(document) == ["format", "version", "regions", "departments", "themes", "items", "bundles", "synonyms"]
    assert (document["format"], document["version"]) == ("yiwangtongban-catalogue", 1)
    assert [region["code"] for region in document["regions"]] == ["330000000000", "330100000000", "330106000000"]
    assert document["regions"][1] == {"code": "330100000000", "name": "杭州市", "level": 3, "parent": "330000000000"}
    wedding = next(item for item in document["items"] if item["name"] == "结婚登记")
    assert wedding["department"] == catalogue["civil"].uscc
    assert wedding["themes"] == ["marriage"]
    assert wedding["effective_from"] == "2024-01-01"
    assert document["bundles"] == [
        {
            "slug": "open-shop",
            "name": "开店一件事",
            "audience": "enterprise",
            "description": "",
            "item_codes": [catalogue["licence"].implementation_code],
            "depends_on": {},
            "founding_item_code": "",
            "is_active": True,
            "theme": "start-business",
        }
    ]


def _second_market_item(catalogue: dict[str, Any]) -> str:
    seal = make_item(department=catalogue["market"], basic_code="000101000003", name="公章刻制备案", item_type="10")
    return seal.implementation_code


def test_a_bundles_order_and_founding_item_are_exported_and_imported(catalogue, tmp_path):
    licence, seal = catalogue["licence"].implementation_code, _second_market_item(catalogue)
    document = json.loads(_export())
    document["bundles"][0].update(item_codes=[licence, seal], depends_on={seal: [licence]}, founding_item_code=licence)

    _import(_write(tmp_path / "catalogue.json", document))

    bundle = Bundle.objects.get(slug="open-shop")
    assert (bundle.item_codes, bundle.depends_on, bundle.founding_item_code) == (
        [licence, seal],
        {seal: [licence]},
        licence,
    )
    assert json.loads(_export())["bundles"][0]["depends_on"] == {seal: [licence]}


@pytest.mark.parametrize(
    ("depends_on", "founding", "problem"),
    [
        (
            {"SEAL": ["NOT-IN-IT"]},
            "",
            "  - depends_on: An item can wait only for items of the same bundle; not in it: NOT-IN-IT",
        ),
        (
            {"SEAL": ["LICENCE"], "LICENCE": ["SEAL"]},
            "",
            "  - depends_on: The items wait for each other in a circle, so none of them could start.",
        ),
        (
            {},
            "NOT-IN-IT",
            "  - founding_item_code: The item that registers the enterprise must be one of the bundle's.",
        ),
        (
            {"SEAL": "LICENCE"},
            "",
            "  - depends_on: Expected an object that maps an item's code to the codes it waits for.",
        ),
    ],
)
def test_a_bundle_order_outside_the_bundle_or_in_a_circle_is_rejected(
    catalogue, tmp_path, depends_on, founding, problem
):
    codes = {"LICENCE": catalogue["licence"].implementation_code, "SEAL": _second_market_item(catalogue)}
    named = {
        codes[code]: ([codes.get(each, each) for each in waits] if isinstance(waits, list) else codes[waits])
        for code, waits in depends_on.items()
    }
    document = json.loads(_export())
    document["bundles"][0].update(
        item_codes=list(codes.values()), depends_on=named, founding_item_code=codes.get(founding, founding)
    )
    before = _snapshot()

    _error, report = _rejected_import(_write(tmp_path / "catalogue.json", document))

    assert report.splitlines()[-1] == problem
    assert _snapshot() == before


def test_csv_round_trip_with_a_byte_order_mark_for_excel(catalogue, tmp_path):
    path = tmp_path / "items.csv"
    call_command("catalogue_export", "--output", str(path), stdout=io.StringIO())
    exported = path.read_bytes()
    ServiceItem.objects.all().delete()

    output = _import(path)

    assert exported.startswith(b"\xef\xbb\xbf" + b"implementation_code,basic_code,department,")
    assert "结婚登记".encode() in exported
    assert output == "Service items: 2 created, 0 updated, 0 unchanged.\n"
    assert _export("--format", "csv").encode() == exported


def test_export_writes_published_versions_unless_all_versions_are_asked_for(catalogue):
    old = catalogue["wedding"]
    ServiceItem.objects.filter(pk=old.pk).update(status="retired", effective_to=datetime.date(2025, 12, 31))
    make_item(department=catalogue["civil"], version=2, effective_from=datetime.date(2026, 1, 1), name="结婚登记（新）")

    published = json.loads(_export())["items"]
    every = json.loads(_export("--all-versions"))["items"]

    assert [(item["name"], item["version"]) for item in published] == [("结婚登记（新）", 2), ("个体工商户登记", 1)]
    assert [(item["name"], item["version"], item["status"]) for item in every] == [
        ("结婚登记", 1, "retired"),
        ("结婚登记（新）", 2, "published"),
        ("个体工商户登记", 1, "published"),
    ]


# --- Re-import and changes ---


def test_importing_the_same_file_again_changes_nothing(catalogue, tmp_path):
    path = _write(tmp_path / "catalogue.json", _export())
    before = _snapshot()

    output = _import(path)

    assert output.splitlines() == [
        "Regions: 0 created, 0 updated, 3 unchanged.",
        "Departments: 0 created, 0 updated, 2 unchanged.",
        "Themes: 0 created, 0 updated, 2 unchanged.",
        "Service items: 0 created, 0 updated, 2 unchanged.",
        "Bundles: 0 created, 0 updated, 1 unchanged.",
        "Search synonyms: 0 created, 0 updated, 1 unchanged.",
    ]
    assert _snapshot() == before


def test_a_changed_item_becomes_a_new_published_version_and_the_old_one_is_retired(
    catalogue, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    document = json.loads(_export())
    wedding = next(item for item in document["items"] if item["name"] == "结婚登记")
    wedding["name"] = "结婚登记（内地居民）"
    wedding["fees"][0]["standard"] = "每对9元"
    old = catalogue["wedding"]
    before = version_columns(old)
    admin = UserFactory.create(username="platform-admin", is_staff=True)
    indexed = []
    monkeypatch.setattr(search, "reindex", lambda ids: indexed.append(("reindex", list(ids))))
    monkeypatch.setattr(search, "unindex", lambda ids: indexed.append(("unindex", list(ids))))
    today = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        output = _import(_write(tmp_path / "catalogue.json", document), "--user", "platform-admin")

    assert "Service items: 0 created, 1 updated, 1 unchanged." in output
    old.refresh_from_db()
    new = ServiceItem.objects.get(implementation_code=old.implementation_code, version=2)
    assert (new.status, new.name, new.effective_from, new.edited_by, new.approved_by) == (
        "published",
        "结婚登记（内地居民）",
        today,
        admin,
        admin,
    )
    assert new.fees[0]["standard"] == "每对9元"
    assert new.change_note == "Imported from catalogue.json."
    assert list(new.themes.values_list("slug", flat=True)) == ["marriage"]
    assert (old.status, old.effective_to) == ("retired", today - datetime.timedelta(days=1))
    after = version_columns(old)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"status", "effective_to", "updated_at"}
    assert {name: after[name] for name in before if name not in changed} == {
        name: before[name] for name in before if name not in changed
    }
    assert indexed == [("unindex", [old.pk]), ("reindex", [new.pk])]


def test_a_change_that_takes_effect_later_is_scheduled_and_the_version_in_force_stays(catalogue, tmp_path):
    document = json.loads(_export())
    wedding = next(item for item in document["items"] if item["name"] == "结婚登记")
    wedding["summary"] = "新的说明。"
    starts = timezone.localdate() + datetime.timedelta(days=30)
    wedding["effective_from"] = starts.isoformat()

    _import(_write(tmp_path / "catalogue.json", document))

    versions = ServiceItem.objects.filter(implementation_code=catalogue["wedding"].implementation_code)
    assert list(versions.order_by("version").values_list("version", "status", "effective_from", "effective_to")) == [
        (1, "published", datetime.date(2024, 1, 1), None),
        (2, "scheduled", starts, None),
    ]


def test_rows_of_versions_that_are_not_published_are_skipped(catalogue, tmp_path):
    ServiceItem.objects.filter(pk=catalogue["wedding"].pk).update(
        status="retired", effective_to=datetime.date(2025, 12, 31)
    )
    make_item(department=catalogue["civil"], version=2, effective_from=datetime.date(2026, 1, 1), name="结婚登记（新）")
    path = tmp_path / "items.csv"
    call_command("catalogue_export", "--all-versions", "-o", str(path), stdout=io.StringIO())

    output = _import(path)

    assert output == (
        "Service items: 0 created, 0 updated, 2 unchanged. 1 row of a version that is not published was skipped.\n"
    )


def test_a_new_version_cannot_start_before_the_version_in_force(catalogue, tmp_path):
    document = json.loads(_export())
    document["items"][0].update(name="新名字", effective_from="2023-06-01")

    _error, report = _rejected_import(_write(tmp_path / "catalogue.json", document))

    assert report.splitlines()[1:] == [
        "  - effective_from: A new version must take effect after the version in force, which applies from 2024-01-01."
    ]


def test_a_retired_entry_in_the_file_comes_back_as_a_new_version(catalogue, tmp_path):
    path = _write(tmp_path / "catalogue.json", _export())
    wedding = catalogue["wedding"]
    today = timezone.localdate()
    actions.item_retire(
        implementation_code=wedding.implementation_code,
        actor=UserFactory.create(),
        until=today - datetime.timedelta(days=1),
    )

    output = _import(path)

    assert "Service items: 0 created, 1 updated, 1 unchanged." in output
    versions = ServiceItem.objects.filter(implementation_code=wedding.implementation_code).order_by("version")
    assert list(versions.values_list("version", "status", "effective_from", "effective_to")) == [
        (1, "retired", datetime.date(2024, 1, 1), today - datetime.timedelta(days=1)),
        (2, "published", today, None),
    ]


def test_an_item_with_a_version_being_edited_is_not_changed_by_an_import(catalogue, tmp_path):
    document = json.loads(_export())
    document["items"][0]["name"] = "另一个名字"
    item = ServiceItem.objects.get(implementation_code=document["items"][0]["implementation_code"])
    make_item(department=item.department, basic_code=item.basic_code, version=2, status="draft", effective_from=None)

    _error, report = _rejected_import(_write(tmp_path / "catalogue.json", document))

    assert "  - implementation_code: Version 2 of this item is Draft; publish it or send it back" in report


def test_dry_run_reports_what_would_change_and_writes_nothing(catalogue, tmp_path):
    document = json.loads(_export())
    document["synonyms"].append({"term": "开店", "expansions": "个体工商户登记"})
    document["themes"][0]["name"] = "婚育"
    before = _snapshot()

    output = _import(_write(tmp_path / "catalogue.json", document), "--dry-run")

    assert output.splitlines()[0] == "Dry run: every row is valid; nothing was written. The import would make:"
    assert "Themes: 0 created, 1 updated, 1 unchanged." in output
    assert "Search synonyms: 1 created, 0 updated, 1 unchanged." in output
    assert _snapshot() == before


def test_regions_departments_and_themes_are_updated_by_their_natural_key(catalogue, tmp_path):
    document = json.loads(_export())
    document["departments"][0]["name"] = "杭州市民政局"
    document["departments"][0]["document_code"] = "杭民"  # 机关代字 of the 文号
    document["regions"].append({"code": "330106001000", "name": "北山街道", "level": 5, "parent": "330106000000"})

    output = _import(_write(tmp_path / "catalogue.json", document))

    assert "Regions: 1 created, 0 updated, 3 unchanged." in output
    assert "Departments: 0 created, 1 updated, 1 unchanged." in output
    assert Department.objects.get(uscc=catalogue["civil"].uscc).name == "杭州市民政局"
    assert Department.objects.get(uscc=catalogue["civil"].uscc).document_code == "杭民"
    assert Region.objects.get(code="330106001000").parent.code == "330106000000"


# --- Rejections: nothing is written ---


def test_one_bad_row_among_good_ones_rejects_the_whole_json_file(catalogue, tmp_path):
    document = json.loads(_export())
    _empty_the_catalogue()
    bad_uscc = make_uscc(7)[:-1] + ("0" if make_uscc(7)[-1] != "0" else "1")
    document["departments"].append({"uscc": bad_uscc, "name": "坏部门", "kind": "taxation", "region": "330100000000"})
    licence = document["items"][1]
    wedding = document["items"][0]
    broken = dict(wedding, implementation_code=wedding["implementation_code"][:19] + "000120000009", name="编码不符")
    unknown = dict(licence, department=make_uscc(99), name="无此部门")
    unknown["implementation_code"] = make_uscc(99) + licence["implementation_code"][18:]
    document["items"] += [broken, unknown]
    before = _snapshot()

    error, report = _rejected_import(_write(tmp_path / "catalogue.json", document))

    assert error == "3 of 14 rows were rejected; nothing was written."
    assert report.splitlines() == [
        f"Departments, departments[2] ({bad_uscc} 坏部门):",
        "  - uscc: The check character of this unified social credit code is wrong; please check the code.",
        f"Service items, items[2] ({broken['implementation_code']} 编码不符):",
        "  - implementation_code: The implementation code must be "
        f"{catalogue['civil'].uscc}3000120000001 (credit code, level, basic code).",
        f"Service items, items[3] ({unknown['implementation_code']} 无此部门):",
        f"  - department: There is no department with the credit code {make_uscc(99)} in the file or in the database.",
    ]
    assert _snapshot() == before
    assert Region.objects.count() == 0


def test_one_bad_row_among_good_ones_rejects_the_whole_csv_file(catalogue, tmp_path):
    divorce = make_item(department=catalogue["civil"], basic_code="000120000003", name="离婚登记")
    header, wedding, bad_json, wrong_level = csv.reader(io.StringIO(_export("--format", "csv").removeprefix("\ufeff")))
    column = header.index
    bad_json[column("fees")] = bad_json[column("fees")].replace('"fee"', '"fee",', 1)  # [{"code": "fee",, …
    assert wrong_level[column("exercise_level")] == "4"
    wrong_level[column("exercise_level")] = "3"
    ServiceItem.objects.all().delete()
    path = tmp_path / "items.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows([header, wedding, bad_json, wrong_level])
    before = _snapshot()

    error, report = _rejected_import(path)

    assert error == "2 of 3 rows were rejected; nothing was written."
    report_lines = report.splitlines()
    # The conditions of each item hold two lines, so spreadsheet rows and lines of the file differ.
    assert report_lines[0] == f"Service items, line 4 (spreadsheet row 3) ({divorce.implementation_code} 离婚登记):"
    assert report_lines[1].startswith("  - fees: This cell is not valid JSON: Expecting property name enclosed in")
    assert report_lines[2:] == [
        f"Service items, line 6 (spreadsheet row 4) ({catalogue['licence'].implementation_code} 个体工商户登记):",
        "  - exercise_level: The level exercised must be the level of the department's region (4).",
    ]
    assert _snapshot() == before


def test_every_reason_of_a_row_is_reported(catalogue, tmp_path):
    document = json.loads(_export())
    item = document["items"][0]
    item.update(star_level=5, visits=2, online_depth=3, materials=[{"code": "x"}], themes=["no-such-theme"])
    item["form_schema"] = {"type": "no-such-type"}
    document["regions"].append({"code": "330106000000", "name": "重复", "level": 4, "parent": "339900000000"})
    document["regions"].append({"code": "330107000000", "name": "级别不符", "level": 3, "parent": "330100000000"})
    document["departments"].append(
        {"uscc": make_uscc(5), "name": "第二个民政局", "kind": "civil_affairs", "region": "330100000000"}
    )

    document["bundles"].append(
        {"slug": "wedding", "name": "结婚一件事", "audience": "person", "theme": "nope", "item_codes": ["X", 1]}
    )
    document["bundles"].append({"slug": "divorce", "name": "离婚一件事", "audience": "person", "item_codes": ["X"]})

    _error, report = _rejected_import(_write(tmp_path / "catalogue.json", document))

    assert report.splitlines() == [
        "Regions, regions[3] (330106000000 重复):",
        "  - code: The file has this entry more than once (also at regions[2]).",
        "  - parent: There is no region with the code 339900000000 in the file or in the database.",
        "Regions, regions[4] (330107000000 级别不符):",
        "  - level: The code 330107000000 is the code of a County, not of a City.",
        "  - parent: The parent region must be at a higher level.",
        f"Departments, departments[0] ({catalogue['civil'].uscc} {catalogue['civil'].name}):",
        f"  - kind: Another department of this kind is in this region: 第二个民政局 ({make_uscc(5)}).",
        f"Departments, departments[2] ({make_uscc(5)} 第二个民政局):",
        f"  - kind: Another department of this kind is in this region: {catalogue['civil'].name} "
        f"({catalogue['civil'].uscc}).",
        f"Service items, items[0] ({item['implementation_code']} 结婚登记):",
        "  - themes: There are no themes no-such-theme in the file or in the database.",
        "  - visits: A 5-star item allows at most 0 visits in person.",
        "  - online_depth: A 5-star item must be fully online.",
        "  - materials: 0: 'name' is a required property",
        "  - materials: 0: 'required' is a required property",
        "  - materials: 0: 'form' is a required property",
        "  - materials: 0: 'source' is a required property",
        "  - form_schema: Not a valid JSON Schema: 'no-such-type' is not valid under any of the given schemas",
        "Bundles, bundles[1] (wedding 结婚一件事):",
        "  - theme: There is no theme nope in the file or in the database.",
        "  - item_codes: Expected a list of implementation codes.",
        "Bundles, bundles[2] (divorce 离婚一件事):",
        "  - item_codes: No service item has these implementation codes: X",
    ]


def test_unreadable_values_are_reported_with_the_fields_own_messages(catalogue, tmp_path):
    document = json.loads(_export())
    item = document["items"][0]
    item.update(star_level="five", effective_from="2024-13-01", item_type="99", workflow=[], unexpected=1)
    document["synonyms"].append("not an object")

    _error, report = _rejected_import(_write(tmp_path / "catalogue.json", document))

    assert report.splitlines() == [
        f"Service items, items[0] ({item['implementation_code']} 结婚登记):",
        "  - unexpected: Unknown field.",
        "  - effective_from: “2024-13-01” value has the correct format (YYYY-MM-DD) but it is an invalid date.",
        "  - item_type: Value '99' is not a valid choice.",
        "  - star_level: “five” value must be an integer.",
        "  - workflow: Expected a JSON object.",
        "Search synonyms, synonyms[1] (—):",
        "  - Each entry must be a JSON object.",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("items.csv", "implementation_code,name,colour\r\n", "Unknown columns: colour Missing columns: basic_code,"),
        ("items.json", "{not json", "The file is not valid JSON: Expecting property name"),
        ("items.json", '{"format": "something else"}', "This is not a catalogue file"),
        ("items.txt", "", "Cannot tell the format from the file name"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(db, tmp_path, name, content, message):
    with pytest.raises(CommandError) as error:
        _import(_write(tmp_path / name, content))
    assert message in str(error.value)


def test_a_csv_file_saved_in_another_encoding_is_refused(db, tmp_path):
    path = tmp_path / "items.csv"
    path.write_bytes("implementation_code,name\r\n1,结婚登记\r\n".encode("gb18030"))

    with pytest.raises(CommandError) as error:
        _import(path)

    assert str(error.value) == "The file is not UTF-8 text. Save it as “CSV UTF-8” (or as UTF-8 JSON) and try again."


def test_progress_is_hidden_when_stderr_is_not_a_terminal(catalogue, tmp_path):
    path = _write(tmp_path / "catalogue.json", _export())
    stderr = io.StringIO()

    call_command("catalogue_import", str(path), stdout=io.StringIO(), stderr=stderr)

    assert stderr.getvalue() == ""


def test_import_functions_work_without_the_command(catalogue):
    source = formats.read_document(export.document_json(export.export_document()))

    result = importing.import_catalogue(source, is_dry_run=True)

    assert (result.row_count, result.rejections, result.is_written) == (11, [], False)
    assert result.counts["items"] == checks.Counts(unchanged=2)
