"""Name resolution for territories given by name: accent-, case- and space-insensitive matching
within the department, aliases from the configuration, and suggestions (rapidfuzz) for names
that do not match. Nothing is guessed: a name resolves only when its normalised form is equal
to one known name or alias; otherwise the caller gets the best suggestions to report.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process


def normalise(text: str | None) -> str:
    """Lower case, no accents, no punctuation, single spaces; U+FFFD (broken character) dropped."""
    if text is None:
        return ""
    return _normalised(str(text))


@functools.lru_cache(maxsize=1 << 16)
def _normalised(text: str) -> str:
    """``normalise`` of a text (remembered: a source repeats the same few values millions of times)."""
    text = unicodedata.normalize("NFKD", text.replace("\ufffd", ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9ñ]+", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Resolution:
    code: str | None
    reason: str | None          # why it did not resolve (for the error message)


class NameIndex:
    """Municipalities (or any units) by department, searchable by name."""

    def __init__(self, units: list[tuple[str, str, str, str]], aliases: dict[str, str] | None = None,
                 dept_aliases: dict[str, str] | None = None):
        """``units``: (code, name, dept_code, dept_name); aliases of municipalities ('Departamento/Nombre'
        or 'Nombre') and of departments ('Nombre'), each -> name or code in the layer."""
        self.by_dept: dict[str, dict[str, list[str]]] = {}
        self.names: dict[str, str] = {}
        self.dept_names: dict[str, str] = {}
        self.dept_by_key: dict[str, str] = {}
        self.national: dict[str, list[str]] = {}
        for code, name, dept, dept_name in units:
            key = normalise(name)
            self.by_dept.setdefault(dept, {}).setdefault(key, []).append(code)
            self.national.setdefault(key, []).append(code)
            self.names[code] = name
            self.dept_names[dept] = dept_name
            self.dept_by_key[normalise(dept_name)] = dept
            self.dept_by_key[normalise(dept)] = dept
        self.codes = set(self.names)
        self.dept_aliases = {normalise(k): v for k, v in (dept_aliases or {}).items()}
        self.aliases: dict[tuple[str | None, str], str] = {}
        for key, target in (aliases or {}).items():
            dept_part, _, alias = key.rpartition("/")
            self.aliases[(normalise(dept_part) or None, normalise(alias))] = target

    def department(self, text: str | None) -> str | None:
        """Department code for a department name, alias or code (normalised), or None."""
        return self.resolve_department(text).code

    def resolve_department(self, text: str | None) -> Resolution:
        key = normalise(text)
        if not key:
            return Resolution(None, "está vacío")
        if key in self.dept_aliases:
            key = normalise(self.dept_aliases[key])
        if key in self.dept_by_key:
            return Resolution(self.dept_by_key[key], None)
        digits = re.sub(r"\D", "", str(text or ""))
        if digits and digits == str(text).strip() and digits.zfill(2) in self.dept_names:
            return Resolution(digits.zfill(2), None)
        names = {normalise(n): n for n in self.dept_names.values()}
        found = process.extract(key, list(names), scorer=fuzz.WRatio, limit=3, score_cutoff=60)
        best = found[0][1] if found else 0
        close = [f"'{names[k]}' ({score:.0f} %)" for k, score, _ in found if score >= best - 5]
        hint = f"; ¿quiso decir {' o '.join(close)}?" if close else ""
        return Resolution(None, f"no es un departamento de la capa{hint} (departamentos: "
                                f"{', '.join(sorted(self.dept_names.values()))}; puede declarar un alias en "
                                "[alias.departamentos])")

    def resolve(self, name: str | None, dept: str | None = None) -> Resolution:
        key = normalise(name)
        if not key:
            return Resolution(None, "está vacío")
        dept_key = normalise(self.dept_names.get(dept, "")) if dept else None
        target = self.aliases.get((dept_key, key)) or self.aliases.get((None, key))
        if target is not None:
            if target in self.codes:
                return Resolution(target, None)
            key = normalise(target)
        pool = self.by_dept.get(dept, {}) if dept else self.national
        codes = pool.get(key, [])
        if len(codes) == 1:
            return Resolution(codes[0], None)
        where = f"en el departamento {self.dept_names.get(dept, dept)}" if dept else "en el país"
        if len(codes) > 1:
            depts = sorted(self.dept_names[c[:2]] if c[:2] in self.dept_names else c for c in codes)
            return Resolution(None, f"es ambiguo {where} (existe en {', '.join(depts)}); añada la columna de departamento")
        suggestions = self.suggest(name, dept)
        hint = f"; ¿quiso decir {' o '.join(suggestions)}?" if suggestions else ""
        return Resolution(None, f"no coincide con ningún municipio {where}{hint} (puede declarar un alias en [alias.municipios])")

    def suggest(self, name: str | None, dept: str | None = None, limit: int = 3) -> list[str]:
        pool = self.by_dept.get(dept, {}) if dept else self.national
        choices = {k: self.names[v[0]] for k, v in pool.items()}
        found = process.extract(normalise(name), list(choices), scorer=fuzz.WRatio, limit=limit, score_cutoff=60)
        best = found[0][1] if found else 0
        # Only the candidates close to the best one: a clear winner is shown alone.
        return [f"'{choices[k]}' ({score:.0f} %)" for k, score, _ in found if score >= best - 5]
