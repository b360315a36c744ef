"""Metadata filters: document ids, a date range, sources."""

from __future__ import annotations

import re

import msgspec

from index.records import Document
from qa.errors import QuestionError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Filters(msgspec.Struct, forbid_unknown_fields=True):
    doc_ids: list[str] | None = None
    date_from: str | None = None  # inclusive, YYYY-MM-DD; undated documents are excluded when set
    date_to: str | None = None  # inclusive
    sources: list[str] | None = None  # case-insensitive match on the document's source

    def validate(self, known_doc_ids: set[str] | None = None) -> Filters:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and not _DATE.match(value):
                raise QuestionError(f"filters.{name} must be a date YYYY-MM-DD, not {value!r}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise QuestionError("filters.date_from is after filters.date_to")
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
