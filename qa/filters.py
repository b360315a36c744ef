"""Metadata filters: document ids, a date range, sources."""

from __future__ import annotations

import datetime
import re
from typing import Annotated

import msgspec

from index.records import Document
from qa.errors import QuestionError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A calendar date, YYYY-MM-DD (checked in `validate`; the format only documents it in the OpenAPI schema).
Date = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date"})]
# An empty list is refused (minItems 1): `[]` used to mean "no filter", the opposite of what it says.
NonEmpty = msgspec.Meta(min_length=1)


class Filters(msgspec.Struct, forbid_unknown_fields=True):
    doc_ids: Annotated[list[str], NonEmpty] | None = None
    date_from: Date | None = None  # inclusive, YYYY-MM-DD; undated documents are excluded when set
    date_to: Date | None = None  # inclusive
    sources: Annotated[list[str], NonEmpty] | None = None  # case-insensitive match on the document's source

    def validate(self, known_doc_ids: set[str] | None = None) -> Filters:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is None:
                continue
            if not _DATE.match(value):
                raise QuestionError(f"filters.{name} must be a date YYYY-MM-DD, not {value!r}")
            try:
                datetime.date.fromisoformat(value)
            except ValueError as exc:  # 2024-02-30, 2024-13-45, 0000-00-00
                raise QuestionError(f"filters.{name} is not a valid date: {value!r} ({exc})") from exc
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QuestionError("filters.date_from is after filters.date_to")
        for name in ("doc_ids", "sources"):
            if getattr(self, name) == []:  # msgspec decoding refuses it too; this covers Filters(...) built in code
                raise QuestionError(f"filters.{name} is empty; omit it for no filter")
        if self.doc_ids is not None and known_doc_ids is not None:
            unknown = [d for d in self.doc_ids if d not in known_doc_ids]
            if unknown:
                raise QuestionError(f"filters.doc_ids has unknown document id(s): {', '.join(unknown)}")
        return self

    def is_empty(self) -> bool:
        return not (self.doc_ids or self.date_from or self.date_to or self.sources)

    def allows(self, doc: Document) -> bool:
        if self.doc_ids is not None and doc.doc_id not in self.doc_ids:
            return False
        if self.date_from and (doc.date is None or doc.date < self.date_from):
            return False
        if self.date_to and (doc.date is None or doc.date > self.date_to):
            return False
        if self.sources is not None:
            wanted = {s.lower() for s in self.sources}
            if (doc.source or "").lower() not in wanted:
                return False
        return True
