"""Excel workbooks (.xlsx): shown sheets read as pages of Markdown tables, their limits and one-line errors."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import openpyxl
import pytest

from assistant.ingest.documents import LoadError, load


def _directory(path: Path) -> Path:
    """A staff directory: a sheet of people (numbers, dates, percentages, times), a hidden sheet, a budget."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Staff"
    sheet.append(["Name", "Department", "Extension", "Started", "Share", "Shift", "Active"])
    sheet.append(["Anna Keller", "Finance", 1642, datetime.date(2021, 3, 1), 0.25, datetime.time(8, 30), None])
    sheet.append(["Boris Novak | Jr", "Legal", 3656, datetime.date(2019, 11, 15), 0.125, datetime.time(14, 0), None])
    sheet.append([None] * 7)  # an empty row
    sheet.append(["Chloe Sato", "Sales", 1200.3, datetime.datetime(2022, 6, 1, 9, 15), 1, datetime.time(7, 0), True])
    for row in (2, 3, 5):
        sheet[f"E{row}"].number_format = "0.0%"
        sheet[f"F{row}"].number_format = "h:mm"
    sheet["D5"].number_format = "yyyy-mm-dd h:mm"
    hidden = book.create_sheet("Salaries")
    hidden.append(["Anna Keller", 91000])
    hidden.sheet_state = "hidden"
    budget = book.create_sheet("Budget 2024")
    budget.append(["Region", 2023, 2024])
    budget.append(["North", 1.1 * 3, 130])  # 3.3000000000000003: binary noise
    book.create_sheet("Empty")
    book.properties.title = "Company directory"
    book.save(path)
    return path


def test_a_workbook_is_read_sheet_by_sheet_as_markdown_tables(tmp_path):
    document = load(_directory(tmp_path / "directory.xlsx"))
    assert document.title == "Company directory"
    assert [document.text[page.start:page.end] for page in document.pages] == [
        "# Staff\n\n| Name | Department | Extension | Started | Share | Shift | Active |\n|---|\n"
        "| Anna Keller | Finance | 1642 | 2021-03-01 | 25.0% | 08:30 |  |\n"
        "| Boris Novak / Jr | Legal | 3656 | 2019-11-15 | 12.5% | 14:00 |  |\n"
        "| Chloe Sato | Sales | 1200.3 | 2022-06-01 09:15 | 100.0% | 07:00 | TRUE |",
        "# Budget 2024\n\n| Region | 2023 | 2024 |\n|---|\n| North | 3.3 | 130 |"]  # the hidden sheet and the empty one: no page
    assert [page.number for page in document.pages] == [1, 2]


def test_a_workbook_that_cannot_be_read_is_one_line_naming_it_and_why(tmp_path, monkeypatch):
    from assistant.ingest import sheets

    (tmp_path / "old.xlsx").write_bytes(b"\xd0\xcf\x11\xe0 an old .xls, renamed" * 20)
    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as archive:
        archive.writestr("content.xml", "<x/>")
    openpyxl.Workbook().save(tmp_path / "blank.xlsx")
    path = _directory(tmp_path / "directory.xlsx")
    # an entity is never resolved: the workbook is refused, the file it names unread
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    (tmp_path / "secret.txt").write_text("SECRET-TOKEN-42")
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{tmp_path}/secret.txt">]>'
                                         + sheet[sheet.index("<worksheet"):].replace("Name", "&xxe;", 1)).encode()
    with zipfile.ZipFile(tmp_path / "entity.xlsx", "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    for name, reason in (("old.xlsx", "not a readable Excel workbook (.xlsx), damaged or of another kind"),
                         ("other.xlsx", "not a readable Excel workbook (.xlsx), damaged ("),
                         ("entity.xlsx", "not a readable Excel workbook (.xlsx), damaged ("),
                         ("blank.xlsx", "no text in its shown sheets")):
        with pytest.raises(LoadError) as err:
            load(tmp_path / name)
        assert str(err.value).startswith(f"{tmp_path / name}: {reason}") and "\n" not in str(err.value)
        assert "SECRET" not in str(err.value)
    with pytest.raises(LoadError, match="more text than the size limit allows .over 100 characters by sheet 1"):
        load(path, max_chars=100)
    monkeypatch.setattr(sheets, "open_package", _bounded)  # a zip that unpacks past the bound: refused before openpyxl reads it
    with pytest.raises(LoadError, match=r"it unpacks to 0 MiB, more than 0 MiB; not read"):
        load(path)


def _bounded(data: bytes, reason: str):
    """`package.open_package` with a bound of 1,000 bytes unpacked."""
    from assistant.ingest.package import open_package

    return open_package(data, reason, 1000)


def test_a_workbook_is_indexed_asked_and_cited_by_its_sheet(tmp_path, settings, embedder):
    import assistant
    from assistant.interfaces.render import where

    corpus = tmp_path / "docs"
    corpus.mkdir()
    path = _directory(corpus / "directory.xlsx")
    bot = assistant.Assistant(store=tmp_path / "store", settings=settings, embedder=embedder)
    report = bot.add([corpus])
    assert [Path(s).name for s in report.added] == ["directory.xlsx"] and not report.failed
    text = load(path).text
    hits = bot.retrieve("What is the budget of the North region?", k=3)
    assert hits and all(text[hit.start:hit.end] == hit.text for hit in hits)
    assert {where(hit) for hit in hits} <= {"sheet 1", "sheet 2"} and "sheet 2" in {where(hit) for hit in hits}


def test_a_sheet_is_read_by_its_cells_not_the_range_it_declares(tmp_path, monkeypatch):
    from assistant.ingest import sheets

    path = tmp_path / "wide.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Lighthouse", "Height"])
    book.active.append(["Harbor Point", 31])
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    start = sheet.index("<dimension")
    # a declared used range larger than the cells (read as declared, "A1:XFD1048576" is 17 billion empty cells)
    parts["xl/worksheets/sheet1.xml"] = (sheet[:start] + '<dimension ref="A1:Z50"/>' + sheet[sheet.index("/>", start) + 2:]).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    read = []
    monkeypatch.setattr(sheets, "_cell", lambda cell, date1904, shown=sheets._cell: read.append(cell) or shown(cell, date1904))
    assert load(path).text == "# Sheet\n\n| Lighthouse | Height |\n|---|\n| Harbor Point | 31 |"
    assert len(read) == 4


def test_a_row_with_a_cell_far_to_the_right_reads_only_its_cells(tmp_path, monkeypatch):
    # openpyxl's rows are as wide as their last cell: one in column XFD made 16,384 cells of a row
    # (3,000 such rows, a 45 KB workbook, took 20 s and 850 MB)
    from assistant.ingest import sheets

    book = openpyxl.Workbook()
    book.active.append(["Port", "Depth"])
    for r, (port, depth) in enumerate([("Bergen", 11), ("Oslo", 9)], start=2):
        book.active.cell(r, 1, port)
        book.active.cell(r, 16_384, depth)
    book.save(tmp_path / "far.xlsx")
    read = []
    monkeypatch.setattr(sheets, "_cell", lambda cell, date1904, shown=sheets._cell: read.append(cell) or shown(cell, date1904))
    assert load(tmp_path / "far.xlsx").text == "# Sheet\n\n| Port | Depth |  |\n| Bergen |  | 11 |\n| Oslo |  | 9 |"
    assert len(read) == 6


def test_hidden_rows_and_columns_are_left_out_as_hidden_sheets_are(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Name", "Team", "Salary", "Desk"], ["Ann", "Ops", 91000, "4B"], ["Old entry", "Ops", 1, "9Z"], ["Bob", "Law", 87000, "2A"]):
        sheet.append(row)
    sheet.column_dimensions["C"].hidden = True
    sheet.row_dimensions[3].hidden = True
    book.save(tmp_path / "staff.xlsx")
    text = load(tmp_path / "staff.xlsx").text
    assert text == "# Sheet\n\n| Name | Team | Desk |\n|---|\n| Ann | Ops | 4B |\n| Bob | Law | 2A |"


@pytest.mark.parametrize("number, fmt, shown", [
    (1234.5, '#,##0.00 "€"', "1,234.50 €"), (1234.5, "[$€-407] #,##0.00", "€ 1,234.50"), (501, "00000", "00501"),
    (-5, "#,##0;(#,##0)", "(5)"), (-1234.5, '"$"#,##0.00_);[Red]("$"#,##0.00)', "($1,234.50)"), (3, "0.00", "3.00"),
    (12.5, "0.0#", "12.5"), (42, "[Cyan]#,##0", "42"), (1250, "[White]#,##0", "1,250"),  # colours had read as date codes
    (44927, "[$-409]mmm yy", "2023-01"), (44927, "d mmm yy", "2023-01-01"), (44927, "yyyy", "2023"), (0.25, "0.0%", "25.0%"), (0.1 * 3, "General", "0.3"), (1.5e-7, "0.00E+00", "1.5e-07"),
])
def test_a_number_reads_as_its_format_shows_it(number, fmt, shown):
    from assistant.ingest.formats import as_shown

    assert as_shown(number, fmt) == shown


def test_a_sheet_laid_out_as_people_lay_them_out_reads_as_titled_tables(tmp_path):
    # a title above the header, pandas' empty index corner, a ruled line, a second table after an empty row
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["Quarterly sales 2024", None, None, None], [None, "Region", "Manager", "Sales"], [0, "North", "Ana", 120],
                ["----------", "-------", None, None], [1, "South", "Bo", 95], [None] * 4, ["Costs", None, None, None],
                ["Item", "Amount", None, None], ["Rent", 12000, None, None]):
        sheet.append(row)
    book.save(tmp_path / "sales.xlsx")
    assert load(tmp_path / "sales.xlsx").text == (
        "# Sheet\n\nQuarterly sales 2024\n\n|  | Region | Manager | Sales |\n|---|\n| 0 | North | Ana | 120 |\n| 1 | South | Bo | 95 |"
        "\n\nCosts\n\n| Item | Amount |\n|---|\n| Rent | 12000 |")
    # an empty row inside one table (the same columns after it) is left out, the table goes on
    (tmp_path / "spaced.csv").write_text("Name,Team\nAna,Red\n\nBo,Blue\n", "utf-8")
    assert load(tmp_path / "spaced.csv").text == "| Name | Team |\n|---|\n| Ana | Red |\n| Bo | Blue |"


def test_a_formula_reads_as_its_last_value_or_as_written_where_the_workbook_keeps_none(tmp_path):
    book = openpyxl.Workbook()
    for row in (["Item", "Cost"], ["Rent", 1000], ["Power", 200], ["Total", "=SUM(B2:B3)"]):
        book.active.append(row)
    book.save(tmp_path / "costs.xlsx")  # (as openpyxl and XlsxWriter write one: to be calculated when opened)
    assert load(tmp_path / "costs.xlsx").text.endswith("| Total | =SUM(B2:B3) |")  # not "0", XlsxWriter's stored value
    with zipfile.ZipFile(tmp_path / "costs.xlsx") as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(b'fullCalcOnLoad="1"', b"")
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"<f>SUM(B2:B3)</f><v></v>", b"<f>SUM(B2:B3)</f>") \
        .replace(b"<f>SUM(B2:B3)</f>", b"<f>SUM(B2:B3)</f><v>1200</v>")
    with zipfile.ZipFile(tmp_path / "saved.xlsx", "w") as archive:  # as Excel saves it: with the last values
        for name, data in parts.items():
            archive.writestr(name, data)
    assert load(tmp_path / "saved.xlsx").text.endswith("| Total | 1200 |")


def test_sheets_are_numbered_as_their_tabs_a_chart_sheet_counted(tmp_path):
    from openpyxl.chart import BarChart, Reference

    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["City", "Staff"])
    book.active.append(["Lyon", 14])
    chart = BarChart()
    chart.add_data(Reference(book.active, min_col=2, min_row=1, max_row=2), titles_from_data=True)
    book.create_chartsheet("Chart").add_chart(chart)
    book.create_sheet("Notes").append(["Figures as of March."])
    book.save(tmp_path / "staff.xlsx")
    document = load(tmp_path / "staff.xlsx")
    assert [page.number for page in document.pages] == [1, 3]  # the Notes tab is the third, as Excel shows it
    assert document.text[document.pages[1].start:document.pages[1].end] == "# Notes\n\n| Figures as of March. |"


def _rewritten(path: Path, part: str, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as source:
        items = [(item, source.read(item)) for item in source.infolist()]
    with zipfile.ZipFile(path, "w") as target:
        for item, raw in items:
            target.writestr(item, raw.replace(old, new) if item.filename == part else raw)


def test_a_merged_cell_s_value_is_written_in_each_cell_it_covers_and_a_title_across_the_sheet_once(tmp_path):
    # a region merged down its rows had been read in its first row only, and a header merged over
    # two columns named one of them
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    sheet["C3"] = "Quarterly report"
    rows = [["Region", "City", "Sales", None], ["North", "Oslo", 5, 6], [None, "Bergen", 7, 8], ["South", "Kristiansand", 9, 10]]
    for r, row in enumerate(rows, start=4):
        for c, value in enumerate(row, start=3):
            sheet.cell(r, c, value)
    for cells in ("C3:F3", "E4:F4", "C5:C6"):
        sheet.merge_cells(cells)
    book.save(tmp_path / "sales.xlsx")
    expected = ("# Sales\n\nQuarterly report\n\n| Region | City | Sales | Sales |\n|---|\n| North | Oslo | 5 | 6 |\n"
                "| North | Bergen | 7 | 8 |\n| South | Kristiansand | 9 | 10 |")
    assert load(tmp_path / "sales.xlsx").text.strip() == expected
    # ranges no sheet holds (a column past XFD, every cell of a sheet) are passed over or fill at most MERGE_FILLS_MOST
    _rewritten(tmp_path / "sales.xlsx", "xl/worksheets/sheet1.xml", b'<mergeCell ref="C3:F3"/>',
               b'<mergeCell ref="C3:F3"/><mergeCell ref="A1:ZZZ9"/><mergeCell ref="G4:XFD1048576"/>')
    assert load(tmp_path / "sales.xlsx").text.strip() == expected


def test_merged_cells_fill_a_bounded_number_of_cells():
    from assistant.ingest.sheets import MERGE_FILLS_MOST, fill_merged

    rows = [["x", "y"] + [""] * 998 + ["z"]] + [[""] * 1000 for _ in range(200)]  # 200,000 empty cells under one merge
    assert fill_merged(rows, [(0, 0, 10**6, 999)] * 3) == MERGE_FILLS_MOST * len(" x |")
    assert sum(cell == "x" for row in rows for cell in row) == MERGE_FILLS_MOST + 1 and rows[0][1] == "y"
    # thousands of overlapping ranges over a sheet of two cells are looked at within a bound, not walked each
    sparse = [["a"]] + [[] for _ in range(99_998)] + [["b"]]
    assert fill_merged(sparse, [(0, 0, 99_998, c) for c in range(4_000)]) == 0  # (each range the rows' only content)
    # a merge that is its rows' only content, a title block over two rows, is written once
    title = [["Sales by region"], [], ["Region", "Q1"], ["North", "5"]]
    assert fill_merged(title, [(0, 0, 1, 3)]) == 0 and title[:2] == [["Sales by region"], []]


def test_a_workbook_without_a_declared_title_is_titled_by_its_file_not_its_first_sheet(tmp_path):
    # every sheet's passages carry the document's title; the first sheet's name is wrong for the others
    book = openpyxl.Workbook()
    book.active.title = "Staff"
    book.active.append(["Name", "Extension"])
    book.active.append(["Anna Keller", 1642])
    budget = book.create_sheet("Budget 2024")
    budget.append(["Region", 2024])
    budget.append(["North", 130])
    book.save(tmp_path / "q3_directory.xlsx")
    document = load(tmp_path / "q3_directory.xlsx")
    assert document.title == "q3 directory"
    assert document.text.startswith("# Staff")
    book.properties.title = "Microsoft Excel - q3_directory"  # a converter's title, a file name: as none
    book.save(tmp_path / "contacts.txt.xlsx")
    assert load(tmp_path / "contacts.txt.xlsx").title == "contacts.txt"
