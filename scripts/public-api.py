#!/usr/bin/env python3
"""The crate's public API, listed from rustdoc's HTML, compared with the
committed list `public-api.txt`, so that the API changes only on purpose.

    cargo doc --no-deps -p slog-host --all-features
    python3 scripts/public-api.py            # fails, with a diff, on a change
    python3 scripts/public-api.py --bless    # writes the new list

One line per item: every item rustdoc lists (`all.html`: structs, enums,
traits, functions, constants, type aliases) with its path and its
declaration as rustdoc shows it (a function's signature, a constant's type
and value, a trait's methods, a struct's public fields), every inherent
method and associated constant of each struct and enum with its signature,
every enum variant, and every public module. Trait implementations are not
listed (derives move them).
"""

import difflib
import html
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "doc" / "slog_host"
LIST = ROOT / "public-api.txt"


def text(fragment: str) -> str:
    """The text of an HTML fragment, white space folded."""
    no_tags = re.sub(r"<[^>]+>", "", fragment)
    return " ".join(html.unescape(no_tags).split())


def items() -> list[str]:
    all_html = (DOC / "all.html").read_text()
    out = []
    for href, name in re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', all_html):
        kind = href.rsplit("/", 1)[-1].split(".", 1)[0]
        path = "slog_host::" + name
        page = (DOC / href).read_text()
        decl = re.search(r'<pre class="rust item-decl">(.*?)</pre>', page, re.S)
        out.append(f"{kind} {path}" + (f" = {text(decl.group(1))}" if decl else ""))
        if kind in ("struct", "enum"):
            start = page.find('id="implementations-list"')
            end = page.find('id="trait-implementations"')
            if start < 0:
                continue
            inherent = page[start : end if end > start else len(page)]
            for header in re.findall(r'<h4 class="code-header">(.*?)</h4>', inherent, re.S):
                out.append(f"  {path}: {text(header)}")
        if kind == "enum":
            for variant in re.findall(r'<section id="variant\.([A-Za-z0-9_]+)"', page):
                out.append(f"  {path}::{variant}")
    for module in sorted(DOC.rglob("index.html")):
        rel = module.parent.relative_to(DOC)
        # rustdoc leaves redirect pages at private modules' paths.
        if 'http-equiv="refresh"' in module.read_text():
            continue
        if str(rel) != ".":
            out.append("mod slog_host::" + "::".join(rel.parts))
    return sorted(set(out))


def main() -> int:
    if not (DOC / "all.html").exists():
        print(f"no rustdoc output at {DOC}: run `cargo doc --no-deps -p slog-host --all-features`")
        return 2
    now = items()
    if "--bless" in sys.argv:
        LIST.write_text("\n".join(now) + "\n")
        print(f"wrote {LIST.name}: {len(now)} lines")
        return 0
    before = LIST.read_text().splitlines() if LIST.exists() else []
    if now == before:
        print(f"public API unchanged: {len(now)} lines in {LIST.name}")
        return 0
    sys.stdout.writelines(
        difflib.unified_diff(
            [l + "\n" for l in before], [l + "\n" for l in now], LIST.name, "rustdoc now"
        )
    )
    print(
        "\nthe public API changed: if on purpose, run `python3 scripts/public-api.py --bless`, "
        "commit public-api.txt, and say it in CHANGELOG.md"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
