"""Import the catalogue from a JSON document or a CSV file of items; nothing is written if any row is rejected."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import IntegrityError
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from accounts.models import User
from core.errors import DomainError
from services.transfer import formats, importing

_T = TypeVar("_T")


class Command(BaseCommand):
    help = (
        "Import regions, departments, themes, service items, bundles and synonyms from a catalogue file "
        "(JSON, or CSV for items). Every row is checked first; if any is rejected, nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The file to import.")
        parser.add_argument("--format", choices=formats.FORMATS, help="json or csv (default: by the file's extension).")
        parser.add_argument("--dry-run", action="store_true", help="Check and report only; write nothing.")
        parser.add_argument(
            "--user", help="Username recorded as editor and approver of the imported versions (a platform admin)."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show progress bars.")
        parser.add_argument("--language", help="Language of the report (default: the site's language).")

    def handle(self, *args: Any, **options: Any) -> None:
        language = options["language"]
        with translation.override(language) if language else contextlib.nullcontext():
            self.run(options)

    def run(self, options: dict[str, Any]) -> None:
        path = Path(options["path"])
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(_("There is no user %(username)s.") % {"username": options["user"]})
        stream = options.get("stderr") or sys.stderr
        show_progress = not options["no_progress"] and stream.isatty()

        def progress(rows: Sequence[_T], description: str) -> Iterable[_T]:
            return tqdm(rows, desc=description, file=stream, disable=not show_progress, unit=_("rows"), leave=False)

        try:
            source = self.read(path, options["format"])
            result = importing.import_catalogue(
                source,
                actor=actor,
                is_dry_run=options["dry_run"],
                note=_("Imported from %(file)s.") % {"file": path.name},
                progress=progress,
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        except IntegrityError as error:
            raise CommandError(
                _("The database refused the import; nothing was written: %(error)s") % {"error": error}
            ) from None
        if result.rejections:
            for line in importing.rejection_report(result.rejections):
                self.stderr.write(line)
            raise CommandError(
                _("%(rejected)s of %(rows)s rows were rejected; nothing was written.")
                % {"rejected": len(result.rejections), "rows": result.row_count}
            )
        if options["dry_run"]:
            self.stdout.write(_("Dry run: every row is valid; nothing was written. The import would make:"))
        for line in importing.count_lines(result.counts):
            self.stdout.write(line)

    def read(self, path: Path, chosen_format: str | None) -> formats.CatalogueFile:
        file_format = formats.file_format(str(path), chosen_format)
        try:
            text = formats.decode(path.read_bytes())
        except OSError as error:
            raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": error.strerror}) from None
        return formats.read_document(text) if file_format == "json" else formats.read_items_csv(text)
