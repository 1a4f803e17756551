"""Export the catalogue as a JSON document, or its items as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from core.errors import DomainError
from services.transfer import export, formats


class Command(BaseCommand):
    help = (
        "Export the catalogue: the whole of it as JSON, or the service items as CSV (UTF-8 with a byte-order "
        "mark, for Excel). Published versions only unless --all-versions."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help="The file to write (default: standard output).")
        parser.add_argument(
            "--format", choices=formats.FORMATS, help="json or csv (default: by the output's extension, else json)."
        )
        parser.add_argument("--all-versions", action="store_true", help="Every version of every item.")

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"]
        try:
            file_format = formats.file_format(output, options["format"]) if output else options["format"] or "json"
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        if file_format == "json":
            document = export.export_document(all_versions=options["all_versions"])
            text, item_count = export.document_json(document), len(document["items"])
        else:
            rows = export.item_rows(all_versions=options["all_versions"])
            text, item_count = export.items_csv(rows), len(rows)
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            with Path(output).open("w", encoding="utf-8", newline="") as file:
                file.write(text)
        except OSError as error:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s") % {"path": output, "error": error.strerror}
            ) from None
        self.stdout.write(_("Wrote %(count)s service items to %(path)s.") % {"count": item_count, "path": output})
