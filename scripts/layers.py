#!/usr/bin/env python3
"""Checks the crate's house rules from its sources (DESIGN.md, "House").

- Imports go down only: setup -> writer -> outputs/otlp -> format/caller ->
  host -> record -> leaves (error, fork, intern, settings). A file may use
  its own folder and any folder below it, never one above.
- No import circle: neither between folders nor between the files of one
  folder.
- No import through `lib.rs`: inside the crate, paths name the module that
  defines an item (`crate::error::Error`), never a root re-export
  (`crate::Error`) or one of lib.rs's facade modules (`crate::drain`).
- The largest file, tests apart (a trailing `#[cfg(test)] mod tests`), is
  under MAX_LINES.

Doc comments and comments are not imports: intra-doc links may name any
item. Prints what it finds and exits non-zero on a breach.

Run: python3 scripts/layers.py [--graph]
"""

import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
MAX_LINES = 700

# Lower rank = lower layer. Folders of one rank may not import each other
# in both directions (the folder graph must have no circle).
RANK = {
    "background": 0, "config_file": 0, "error": 0, "fork": 0, "intern": 0, "settings": 0,
    "record": 1,
    "host": 2,
    "caller": 3, "format": 3,
    "outputs": 4, "otlp": 4,
    "writer": 5,
    "setup": 6,
    "testing": 7,
    "lib": 8,
}
# Rustdoc-only pages and test-only modules: not part of the data flow.
SKIP = {"docs", "proptests"}


def modules():
    """Maps each module path (tuple) to its file."""
    mods = {}
    for root, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.relpath(os.path.join(root, f), SRC)
            parts = path[:-3].split(os.sep)
            if parts == ["lib"]:
                parts = []
            elif parts[-1] == "mod":
                parts = parts[:-1]
            mods[tuple(parts)] = path
    return mods


def code_lines(text):
    """The file's code without comments and string literals."""
    out = []
    for line in text.splitlines():
        line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        line = line.split("//", 1)[0]
        out.append(line)
    return "\n".join(out)


def joined_uses(code):
    """Expands `use a::{b, c::{d}}` into `a::b`, `a::c::d`."""
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", code):
        paths.extend(expand(re.sub(r"\s+", "", m.group(1))))
    return paths


def expand(tree):
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix = tree[:start]
                inner = tree[start + 1:i]
                items, d, cur = [], 0, ""
                for c in inner:
                    if c == "," and d == 0:
                        items.append(cur)
                        cur = ""
                        continue
                    d += c == "{"
                    d -= c == "}"
                    cur += c
                items.append(cur)
                return [p for it in items if it for p in expand(prefix + it)]
    return [tree.split(" as ")[0]]


def resolve(path, here, mods):
    """The module a `crate::`, `super::` or `self::` path, written in module
    `here`, points into: the longest run of its segments that names one."""
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    else:
        base = here
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    target = tuple(base)
    for s in segs:
        if target + (s,) not in mods:
            break
        target = target + (s,)
    return target


def folder(mod):
    return mod[0] if mod else "lib"


def main():
    mods = modules()
    problems = []
    file_edges = {}
    folder_edges = {}
    for mod, path in sorted(mods.items()):
        top = folder(mod)
        if top in SKIP:
            continue
        text = open(os.path.join(SRC, path), encoding="utf-8").read()
        # Unit tests apart: their `super` is the file's own module.
        text = re.split(r"^#\[cfg\(test\)\]\nmod tests \{", text, flags=re.M)[0]
        code = code_lines(text)
        # Inline modules (`mod json { .. }`): their `super` is this file's
        # module, so their paths are resolved from a virtual child of it.
        inner = []
        for m in re.finditer(r"\bmod\s+(\w+)\s*\{", code):
            depth, i = 0, m.end() - 1
            while i < len(code):
                depth += code[i] == "{"
                depth -= code[i] == "}"
                if depth == 0:
                    break
                i += 1
            inner.append((m.group(1), code[m.end():i]))
        for name, body in inner:
            code = code.replace(body, "")
            for p in set(joined_uses(body)) | set(re.findall(r"\b(?:crate|super|self)(?:::\w+)+", body)):
                if p.startswith("super::"):
                    p = "self::" + p[len("super::"):]
                if p.startswith(("crate::", "self::")):
                    code += f"\nuse {p};"
        found = set(joined_uses(code))
        found |= set(re.findall(r"\b(?:crate|super|self)(?:::\w+)+", code))
        # `use child::...` in a module with submodules: a path relative to
        # this module.
        inline = set(re.findall(r"\bmod\s+(\w+)\s*\{", code))
        for p in list(found):
            head = p.split("::")[0]
            if head not in ("crate", "super", "self") and head not in inline and mod + (head,) in mods:
                found.add("self::" + p)
        for p in sorted(found):
            if not p.startswith(("crate::", "super::", "self::")):
                continue
            segs = p.split("::")
            if path != "lib.rs" and segs[0] == "crate":
                first = segs[1]
                if (first,) not in mods:
                    problems.append(f"{path}: `{p}` imports through lib.rs")
                    continue
            target = resolve(p, mod, mods)
            if target == mod or target == ():
                continue
            tpath = mods.get(target)
            if tpath and tpath != path:
                file_edges.setdefault(path, set()).add(tpath)
            a, b = top, folder(target)
            if b in SKIP or a == b:
                continue
            folder_edges.setdefault(a, set()).add(b)
            if a != "lib" and RANK.get(b, 99) > RANK.get(a, -1):
                problems.append(f"{path}: `{p}` imports upward ({a} -> {b})")
    # Circles between folders.
    for a, bs in folder_edges.items():
        for b in bs:
            if a in folder_edges.get(b, set()):
                problems.append(f"folders import each other: {a} <-> {b}")
    # Circles between files (Tarjan).
    index, low, stack, on, sccs = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in file_edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(file_edges):
        if v not in index:
            strong(v)
    for comp in sccs:
        problems.append("import circle: " + " -> ".join(comp))
    # File sizes, tests apart.
    sizes = []
    for mod, path in mods.items():
        if folder(mod) in SKIP:
            continue
        lines = open(os.path.join(SRC, path), encoding="utf-8").read().splitlines()
        n = len(lines)
        for i, l in enumerate(lines):
            if l.startswith("#[cfg(test)]") and i + 1 < n and lines[i + 1].startswith("mod tests {"):
                n = i
                break
        sizes.append((n, path))
    sizes.sort(reverse=True)
    for n, path in sizes:
        if n >= MAX_LINES:
            problems.append(f"{path}: {n} lines (tests apart), over {MAX_LINES}")
    if "--graph" in sys.argv:
        for a in sorted(folder_edges):
            print(f"{a} -> {', '.join(sorted(folder_edges[a]))}")
    print(f"largest files (tests apart): " + ", ".join(f"{p} {n}" for n, p in sizes[:5]))
    for p in sorted(set(problems)):
        print(p)
    print(f"{len(mods)} modules, {len(set(problems))} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
