"""A corpus of broken behavior and import files, generated (never checked in), next to the good examples.

Every way a file was found to break the DAG folder (issue 17.2: constructor errors, deep nesting, alias
bombs, notifier modules that exit, over-long and clashing file names) and the ordinary mistakes (missing
fields, wrong types, unknown destination types, bad SQL paths, bad YAML, empty, binary, UTF-16, duplicate
keys...). Each bad file lists text fragments its problems must contain (the field and what is wrong).

``python -m tests.support.bad_behavior_files OUT`` writes the corpus to OUT (to try it by hand:
``BEHAVIOR_SYNC_BEHAVIORS_DIR=OUT/behaviors BEHAVIOR_SYNC_IMPORTS_DIR=OUT/imports PYTHONPATH=OUT/modules
python -m behavior_sync validate``).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "include" / "behaviors"
BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "value_hunters.yaml").read_text(encoding="utf-8"))
IMPORT_BASE = "list_name: VIPs\ntable: hubspot_vips\n"
MiB = 1 << 20

# Notifier modules (module name -> source) that misbehave when imported.
NOTIFIER_MODULES = {
    "bsync_corpus_exits": "raise SystemExit(3)\n",
    "bsync_corpus_interrupts": "raise KeyboardInterrupt\n",
    "bsync_corpus_recurses": "def down(n):\n    return down(n + 1)\n\ndown(0)\n",
    "bsync_corpus_out_of_memory": "raise MemoryError('pretend the import ran out of memory')\n",
    "bsync_corpus_loops": "while True:\n    pass\n",
    "bsync_corpus_not_callable": "NOTIFIER = 42\n",
}


@dataclass(frozen=True)
class BadFile:
    """One broken file: its name (bytes for a name that is not UTF-8), folder, and what its problems must say."""

    name: str | bytes
    folder: str  # "behaviors" or "imports"
    expected: tuple[str, ...]


@dataclass(frozen=True)
class Corpus:
    """Where the corpus was written and what it holds."""

    behaviors: Path
    imports: Path
    modules: Path
    good_behaviors: tuple[str, ...]  # slugs whose DAG must load (the six examples and two tolerated variants)
    good_imports: tuple[str, ...]
    bad: tuple[BadFile, ...]

    def path(self, bad: BadFile) -> Path:
        folder = self.behaviors if bad.folder == "behaviors" else self.imports
        return Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(bad.name))))


def dump(**changes: Any) -> str:
    """The value_hunters example with top-level fields replaced (None removes a field)."""
    document = {k: v for k, v in (BASE | changes).items() if v is not None}
    return yaml.safe_dump(document, sort_keys=False, width=1 << 30)


def with_lines(*lines: str) -> str:
    """The value_hunters example (without ``retries``/``tags``) followed by raw YAML lines."""
    return dump(retries=None, tags=None) + "".join(f"{line}\n" for line in lines)


def long_description(chars: int) -> str:
    """The value_hunters example with a description of ``chars`` characters (written directly: dumping is slow)."""
    return dump(description=None) + f"description: {'x' * chars}\n"


def notified(module: str) -> str:
    return with_lines(f"notifications: {{on_failure: [{{notifier: '{module}:NOTIFIER'}}]}}")


def alias_bomb(field: str, levels: int = 9) -> str:
    """The "billion laughs": each level lists the one before ten times (10**levels values once expanded)."""
    lines = ["bomb_0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"bomb_{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return f"{field}:\n" + "".join(f"  {line}\n" for line in lines)


def _behavior_cases() -> list[tuple[str | bytes, str | bytes | Callable[[Path], None], tuple[str, ...]]]:
    return [
        # --- found by the probe: each removed every behavior DAG or replaced a good one ---
        ("impossible_date.yaml", with_lines("start_date: 2026-02-30"), ("start_date: '2026-02-30' is not a 'date'",)),
        ("int_tag.yaml", with_lines("retries: !!int abc"), ("invalid YAML (line", "'abc' cannot be read as int")),
        ("deep_nesting.yaml", with_lines("tags: " + "[" * 100_000 + "]" * 100_000), ("nested more than 32 levels",)),
        (
            "alias_bomb.yaml",
            dump() + alias_bomb("webhooks"),
            ("more than 10,000 values (aliases counted as expanded)",),
        ),
        ("notifier_exits.yaml", notified("bsync_corpus_exits"), ("notifications.on_failure[0].notifier", "SystemExit")),
        ("n" * 241 + ".yaml", dump(), ("slug: the file name 'nnnnnnnn", "is not a valid slug")),
        ("value hunters.yaml", dump(), ("'value hunters.yaml' is ignored: 'value_hunters.yaml' already has DAG",)),
        ("comfort_seekers.yml", "name: [broken", ("'comfort_seekers.yml' is ignored: 'comfort_seekers.yaml' already",)),
        (
            "trend_followers.yml",
            (EXAMPLES / "trend_followers.yaml").read_text(),
            ("'trend_followers.yml' is ignored: 'trend_followers.yaml' already has",),
        ),
        # --- anything a notifier module's import raises ---
        (
            "notifier_interrupts.yaml",
            notified("bsync_corpus_interrupts"),
            ("on_failure[0].notifier", "KeyboardInterrupt"),
        ),
        ("notifier_recurses.yaml", notified("bsync_corpus_recurses"), ("on_failure[0].notifier", "RecursionError")),
        ("notifier_no_memory.yaml", notified("bsync_corpus_out_of_memory"), ("on_failure[0].notifier", "MemoryError")),
        ("notifier_loops.yaml", notified("bsync_corpus_loops"), ("on_failure[0].notifier", "TimeLimitExceeded")),
        ("notifier_not_callable.yaml", notified("bsync_corpus_not_callable"), ("is not a notifier (not callable)",)),
        ("notifier_missing.yaml", notified("bsync_corpus_absent"), ("on_failure[0].notifier", "ModuleNotFoundError")),
        # --- what one file may cost ---
        ("huge_file.yaml", long_description(20 * MiB), ("the limit is 1,048,576",)),
        ("long_description.yaml", long_description(900 << 10), ("description: 'xxxx", "(cut: 921,")),
        ("deep_block_nesting.yaml", with_lines("tags:", *(f"{'  ' * i}k{i}:" for i in range(1, 40))), ("nested",)),
        ("scalar_fan_out.yaml", with_lines(f"tags: [&t {'x' * (600 << 10)}, *t]"), ("characters of text",)),
        ("too_many_values.yaml", with_lines(f"tags: [{', '.join(['t'] * 20_000)}]"), ("more than 10,000 values",)),
        ("self_alias.yaml", with_lines("tags: &t [*t]"), ("alias *t refers to a collection that contains it",)),
        (
            "many_problems.yaml",
            with_lines(f"tags: [{', '.join(map(str, range(300)))}]"),
            ("tags[0]: 0 is not of type 'string'", "… and 281 more problems"),
        ),
        # --- ordinary mistakes: YAML and encoding ---
        ("empty.yaml", "", ("the file must contain a mapping of fields",)),
        ("only_comments.yaml", "# nothing here yet\n", ("the file must contain a mapping of fields",)),
        ("a_list.yaml", "- name: x\n", ("the file must contain a mapping of fields",)),
        ("bad_syntax.yaml", "name: [unclosed\n", ("invalid YAML (line 2, column 1)",)),
        ("tab_indented.yaml", "name: x\nidentifiers:\n\temail: email\n", ("invalid YAML (line 3",)),
        ("duplicate_key.yaml", with_lines("name: Twice"), ("duplicated key 'name'",)),
        ("two_documents.yaml", dump() + "---\n" + dump(), ("but found another document",)),
        ("binary_garbage.yaml", bytes(range(256)) * 4, ("not UTF-8 text (byte 0x80",)),
        ("utf16.yaml", dump().encode("utf-16"), ("UTF-16 text: save it as UTF-8",)),
        ("nul_character.yaml", dump().replace("Value Hunters", "Value\0Hunters"), ("invalid YAML",)),
        ("python_tag.yaml", with_lines("retries: !!python/object/apply:os.system [echo]"), ("could not determine",)),
        ("bool_tag.yaml", with_lines("catchup: !!bool maybe"), ("'maybe' cannot be read as bool",)),
        ("huge_int.yaml", with_lines(f"retries: {'9' * 5000}"), ("cannot be read as int",)),
        ("set_tag.yaml", with_lines("tags: !!set {a, b}"), ("tags: {", "is not of type 'array'")),
        ("unhashable_key.yaml", with_lines("? [a, b]", ": c"), ("found unhashable key",)),
        ("undefined_alias.yaml", with_lines("tags: *nowhere"), ("found undefined alias",)),
        ("control_characters.yaml", with_lines('"bad\\tkey\\u200b": 1'), ("bad\\tkey\\u200b: unknown field",)),
        # --- ordinary mistakes: fields ---
        ("missing_name.yaml", dump(name=None), ("'name' is a required property",)),
        ("missing_query.yaml", dump(query=None), ("'query' is a required property",)),
        ("missing_identifiers.yaml", dump(identifiers=None), ("'identifiers' is a required property",)),
        ("missing_destinations.yaml", dump(destinations=None), ("'destinations' is a required property",)),
        ("empty_name.yaml", dump(name=""), ("name: '' should be non-empty",)),
        ("wrong_type_retries.yaml", dump(retries="three"), ("retries: 'three' is not of type 'integer'",)),
        ("wrong_type_destinations.yaml", dump(destinations="meta"), ("destinations: 'meta' is not of type 'array'",)),
        ("unknown_destination.yaml", dump(destinations=[{"type": "tiktok"}]), ("destinations[0].type: 'tiktok'",)),
        ("unknown_field.yaml", dump(colour="red"), ("colour: unknown field",)),
        (
            "days_too_big.yaml",
            dump(destinations=[{"type": "google_ads", "membership_days": 9000}]),
            ("maximum of 540",),
        ),
        ("duplicate_ids.yaml", dump(destinations=[{"type": "meta"}] * 2), ("destinations[1].id: id 'meta' is",)),
        ("webhook_target.yaml", dump(webhooks=[{"connection": "c", "destinations": ["x"]}]), ("webhooks[0].dest",)),
        ("prehashed_unmapped.yaml", dump(prehashed=["date_of_birth"]), ("prehashed[0]: 'date_of_birth' is not",)),
        ("slug_mismatch.yaml", dump(slug="other_slug"), ("slug: 'other_slug' must equal the file name",)),
        ("missing_sql.yaml", dump(query="include/sql/nope.sql"), ("query: SQL file 'include/sql/nope.sql' does not",)),
        ("sql_outside.yaml", dump(query="../../etc/passwd.sql"), ("query: '../../etc/passwd.sql' points outside",)),
        ("sql_absolute.yaml", dump(query="/etc/passwd.sql"), ("query: '/etc/passwd.sql' points outside",)),
        ("sql_nul.yaml", dump(query="include/sql/a\0b.sql"), ("query: not a usable path (ValueError)",)),
        (
            "sql_name_too_long.yaml",
            dump(query="include/" + "q" * 300 + ".sql"),
            ("query: not a usable path (OSError)",),
        ),
        ("bad_cron.yaml", dump(schedule="61 * * * *"), ("schedule: '61 * * * *' is not daily, weekly, manual",)),
        ("never_fires.yaml", dump(schedule="0 0 30 2 *"), ("schedule: '0 0 30 2 *'", "matches no date")),
        ("never_fires_april.yaml", dump(schedule="0 0 31 4 *"), ("schedule: '0 0 31 4 *'", "matches no date")),
        ("far_start_date.yaml", dump(start_date="9999-12-31"), ("start_date: 9999-12-31 is not between",)),
        # --- file names and file types ---
        ("Bad-Name.yaml", dump(), ("slug: the file name 'Bad-Name' is not a valid slug",)),
        ("9lives.yaml", dump(), ("slug: the file name '9lives' is not a valid slug",)),
        ("x.yaml", dump(), ("slug: the file name 'x' is not a valid slug",)),
        ("shouting.YAML", dump(), ("slug: the file name 'shouting.YAML' must end in .yaml",)),
        ("line\nbreak.yaml", dump(), ("the file name 'line\\nbreak' is not a valid slug",)),
        (b"caf\xe9.yaml", dump(), ("the file name 'caf\\udce9' is not a valid slug",)),
        ("a_folder.yaml", Path.mkdir, ("cannot read the file: IsADirectoryError",)),
        ("a_fifo.yaml", os.mkfifo, ("not a regular file",)),
        ("dangling_link.yaml", lambda p: p.symlink_to("/nonexistent/behavior.yaml"), ("FileNotFoundError",)),
        ("device_link.yaml", lambda p: p.symlink_to("/dev/zero"), ("not a regular file",)),
        ("symlink_loop.yaml", lambda p: p.symlink_to(p.name), ("Too many levels of symbolic links",)),
    ]


def _import_cases() -> list[tuple[str | bytes, str | bytes | Callable[[Path], None], tuple[str, ...]]]:
    return [
        ("bad import name.yaml", IMPORT_BASE, ("name: the file name 'bad import name' is not a valid slug",)),
        (
            "loyal_regulars_in_hubspot.yml",
            IMPORT_BASE,
            ("'loyal_regulars_in_hubspot.yml' is ignored: 'loyal_regulars_in_hubspot.yaml'",),
        ),
        ("import_bad_cron.yaml", IMPORT_BASE + "schedule: '99 * * * *'\n", ("schedule: '99 * * * *' is not null",)),
        ("import_never_fires.yaml", IMPORT_BASE + "schedule: 0 0 30 2 *\n", ("schedule: '0 0 30 2 *'", "no date")),
        ("import_bad_table.yaml", "list_name: VIPs\ntable: Not A Table\n", ("table: 'Not A Table' does not match",)),
        ("import_missing_table.yaml", "list_name: VIPs\n", ("'table' is a required property",)),
        ("import_alias_bomb.yaml", IMPORT_BASE + alias_bomb("extra"), ("aliases counted as expanded",)),
        ("import_int_tag.yaml", IMPORT_BASE + "description: !!int abc\n", ("'abc' cannot be read as int",)),
        ("import_deep.yaml", IMPORT_BASE + "extra: " + "{a: " * 50 + "1" + "}" * 50 + "\n", ("nested more than 32",)),
        (
            "import_date_tag.yaml",
            IMPORT_BASE + "description: !!timestamp 2026-02-30\n",
            ("cannot be read as timestamp",),
        ),
    ]


def write_corpus(root: Path) -> Corpus:
    """Write the corpus under ``root`` (folders ``behaviors``, ``imports``, ``modules``) and describe it."""
    behaviors, imports, modules = (root / name for name in ("behaviors", "imports", "modules"))
    for folder in (behaviors, imports, modules):
        folder.mkdir(parents=True)
    for example in sorted(EXAMPLES.glob("*.yaml")):
        shutil.copy(example, behaviors)
    shutil.copy(ROOT / "include" / "imports" / "loyal_regulars_in_hubspot.yaml", imports)
    (behaviors / "byte_order_mark.yaml").write_text("\ufeff" + dump(), encoding="utf-8")  # tolerated
    (behaviors / "unquoted_dates.yml").write_text(with_lines("start_date: 2026-02-01"), encoding="utf-8")  # tolerated
    for module, source in NOTIFIER_MODULES.items():
        (modules / f"{module}.py").write_text(source, encoding="utf-8")
    bad = [_write(behaviors, "behaviors", case) for case in _behavior_cases()]
    bad += [_write(imports, "imports", case) for case in _import_cases()]
    good = tuple(sorted([p.stem for p in EXAMPLES.glob("*.yaml")] + ["byte_order_mark", "unquoted_dates"]))
    return Corpus(behaviors, imports, modules, good, ("loyal_regulars_in_hubspot",), tuple(bad))


def _write(
    folder: Path, kind: str, case: tuple[str | bytes, str | bytes | Callable[[Path], None], tuple[str, ...]]
) -> BadFile:
    name, content, expected = case
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        content(path)
    return BadFile(name, kind, expected)


if __name__ == "__main__":
    corpus = write_corpus(Path(sys.argv[1]))
    print(f"{len(corpus.bad)} broken files and {len(corpus.good_behaviors)} good behaviors in {sys.argv[1]}")
