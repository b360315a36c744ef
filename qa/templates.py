"""Reply templates from prompts/ (plain files, `$name` placeholders), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

NAMES = ("answer", "no_answer", "clarification")


@dataclass(frozen=True)
class Templates:
    templates: dict[str, Template]

    @classmethod
    def load(cls, folder: Path) -> Templates:
        missing = [n for n in NAMES if not (folder / f"{n}.txt").is_file()]
        if missing:
            raise FileNotFoundError(f"reply template(s) missing in {folder}: {', '.join(m + '.txt' for m in missing)}")
        return cls({n: Template((folder / f"{n}.txt").read_text(encoding="utf-8")) for n in NAMES})

    def render(self, name: str, **values: str) -> str:
        text = self.templates[name].safe_substitute(values)
        # Optional parts left empty should not leave runs of blank lines behind.
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        return text.strip()
