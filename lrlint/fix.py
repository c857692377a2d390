"""Applying fixes: byte edits, re-parse and re-check in memory, then an atomic write.

The loop (ruff's shape, capped at ``MAX_ITERATIONS``):

1. pick the applicable fixes (safe; unsafe too with ``unsafe=True``; never display-only),
   one non-overlapping set per file;
2. apply their edits to the file's bytes (``Span.start:end`` are byte offsets into
   ``Source.data``, BOM included), checking that each new literal loads as the same type
   as the old one;
3. re-parse the new bytes (a file that no longer parses is reverted and reported) and
   re-check it in memory, with the same base and reference;
4. repeat while fixes remain, then write each changed file atomically (temporary file in
   the same directory, fsync, rename, mode kept) unless it changed on disk since it was read.

Nothing here writes when ``write=False`` (``--diff``).
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lrlint import sources
from lrlint.findings import DISPLAY_ONLY, SAFE, UNSAFE, Edit, Finding
from lrlint.sources import Source, SourceError
from lrlint.spans import Span

MAX_ITERATIONS = 10


@dataclass
class FixOutcome:
    result: object  # lrlint.api.Result after fixing
    fixed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    diff: str = ""
    problems: list[str] = field(default_factory=list)
    changed: dict[str, bytes] = field(default_factory=dict)  # path -> new bytes (written unless --diff)
    iterations: int = 0


def applicable(f: Finding, unsafe: bool) -> bool:
    """Whether ``--fix`` (with ``--unsafe-fixes`` when ``unsafe``) applies this finding's fix."""
    if f.fix is None or not f.fix.edits:
        return False
    a = f.fix.applicability
    return a == SAFE or (unsafe and a == UNSAFE)


def select(findings: list[Finding], unsafe: bool) -> dict[str, list[Finding]]:
    """Per file, the applicable fixes whose edits overlap no earlier-chosen fix's edits.

    A fix whose edits span several files is taken only when all its files are free there.
    """
    chosen: dict[str, list[Finding]] = {}
    taken: dict[str, list[tuple[int, int]]] = {}
    for f in findings:
        if not applicable(f, unsafe):
            continue
        ok = True
        for e in f.fix.edits:
            for s, t in taken.get(e.span.path, []):
                if _overlaps((e.span.start, e.span.end), (s, t)):
                    ok = False
        if not ok:
            continue
        for e in f.fix.edits:
            taken.setdefault(e.span.path, []).append((e.span.start, e.span.end))
        for p in {e.span.path for e in f.fix.edits}:
            chosen.setdefault(p, []).append(f)
    return chosen


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a == b:
        return True
    if a[0] == a[1] or b[0] == b[1]:  # insertions: only at the same point, or strictly inside
        return a[0] == b[0] or (b[0] < a[0] < b[1]) or (a[0] < b[0] < a[1])
    return a[0] < b[1] and b[0] < a[1]


def newline_of(data: bytes) -> str:
    """The file's line ending: CRLF when most of its lines end that way."""
    crlf = data.count(b"\r\n")
    return "\r\n" if crlf and crlf * 2 >= data.count(b"\n") else "\n"


def apply_edits(data: bytes, edits: list[Edit], encoding: str = "utf-8") -> bytes:
    """Replace each edit's byte range with its content (in the file's encoding and newlines).

    Edits must not overlap; they are applied from the end so earlier offsets stay valid.
    """
    nl = newline_of(data)
    out = data
    last_start = None
    for e in sorted(edits, key=lambda e: (e.span.start, e.span.end), reverse=True):
        if e.span.start < 0 or e.span.end > len(data) or e.span.start > e.span.end:
            raise ValueError(f"edit {e.span.start}:{e.span.end} is outside the file ({len(data)} bytes)")
        if last_start is not None and e.span.end > last_start:
            raise ValueError(f"overlapping edits at byte {e.span.start}")
        content = e.content
        if nl == "\r\n" and "\n" in content:
            content = content.replace("\r\n", "\n").replace("\n", "\r\n")
        out = out[: e.span.start] + content.encode(encoding, "surrogateescape") + out[e.span.end :]
        last_start = e.span.start
    return out


# -- the new literal must load as the same type as the old one ---------------------------------


def _load_scalar(fmt: str, text: str):
    """The type a scalar literal loads as in ``fmt``; None when the text is not a lone scalar."""
    text = text.strip()
    if not text or "\n" in text:
        return None
    try:
        if fmt == "yaml":
            import yaml

            v = yaml.safe_load(text)
        elif fmt == "json":
            v = json.loads(text)
        else:
            v = ast.literal_eval(text)
    except Exception:
        return None
    if isinstance(v, (dict, list, tuple, set)):
        return None
    return type(v)


def type_kept(fmt: str, old: str, new: str) -> bool:
    """False when ``old`` is a scalar literal and ``new`` would load as another type.

    PyYAML reads ``1e-5`` as a string and ``1.0e-5`` as a float: a fix keeps whichever the file used.
    An int literal may become a float (``lr: 1`` -> ``lr: 0.5``); anything else must stay.
    """
    t_old = _load_scalar(fmt, old)
    if t_old is None:
        return True
    t_new = _load_scalar(fmt, new)
    if t_new is None:
        return False
    return t_old is t_new or (t_old is int and t_new is float)


# -- the loop ----------------------------------------------------------------------------------


def _recheck(paths_data: dict[str, bytes], formats: dict[str, str], settings, base, reference):
    """Check files whose bytes are given in memory, exactly as ``api.check_paths`` would."""
    from lrlint import api
    from lrlint.discover import Target

    engine = api.Engine(settings, base=base, reference=reference, overlay={Path(p): d for p, d in paths_data.items()})
    res = api.Result()
    try:
        api.check_targets(engine, [Target(path, Path(path), formats[path], True) for path in paths_data], res)
    finally:
        engine.close()
    res.findings = api.filter_findings(res.findings, res, settings)
    return res


def _reparse(path: str, fmt: str, data: bytes, settings) -> str | None:
    """None when ``data`` parses; else the reason."""
    limits = sources.Limits(max_file_size=getattr(settings, "max_file_size", sources.Limits.max_file_size))
    try:
        src = sources.decode(path, fmt, data)
        sources.parse(src, limits)
    except SourceError as e:
        return f"{e.line}:{e.col}: {e.reason}"
    except Exception as e:  # a parser bug must not lose the user's file
        return f"{type(e).__name__}: {e}"
    return None


def apply(
    result,
    settings,
    unsafe: bool = False,
    write: bool = True,
    base: str | None = None,
    reference: str | None = None,
    max_iterations: int = MAX_ITERATIONS,
) -> FixOutcome:
    """Apply fixes to the files of ``result``; return the re-checked result, what was fixed and the diff."""
    original: dict[str, Source] = dict(result.sources)
    current: dict[str, bytes] = {}  # path -> bytes after fixing, for changed files
    fixed: dict[str, list[tuple[str, str]]] = {}
    problems: list[str] = []
    findings = list(result.findings)
    sources_now: dict[str, Source] = dict(result.sources)
    rechecked = None
    broken: set[str] = set()  # files whose fixes are given up
    rewritten: set[tuple[str, int, int]] = set()  # (path, line, col) of edits applied in this run
    refixed: set[tuple[str, int, int]] = set()
    iterations = 0
    while iterations < max_iterations:
        candidates = []
        for f in findings:
            if f.span.path in broken or not applicable(f, unsafe):
                continue
            again = [
                (e.span.path, e.span.line, e.span.col)
                for e in f.fix.edits
                if (e.span.path, e.span.line, e.span.col) in rewritten
            ]
            if again:
                # each place is rewritten once per run: a finding that survives its own fix would loop
                if again[0] not in refixed:
                    refixed.add(again[0])
                    problems.append(
                        f"{again[0][0]}:{again[0][1]}:{again[0][2]}: {f.code} is still reported after its fix; "
                        "not rewritten again (does the reference state the lr it was tuned with?)"
                    )
                continue
            candidates.append(f)
        chosen = select(candidates, unsafe)
        if not chosen:
            break
        iterations += 1
        progress = False
        round_data: dict[str, bytes] = {}
        round_fixed: dict[str, list[Finding]] = {}
        for path, fs in chosen.items():
            src = sources_now.get(path)
            if src is None:
                problems.append(f"{path}: not fixed: the file was not read in this run")
                broken.add(path)
                continue
            edits: list[Edit] = []
            ok_fs: list[Finding] = []
            for f in fs:
                mine = [e for e in f.fix.edits if e.span.path == path]
                bad = None
                for e in mine:
                    old = src.data[e.span.start : e.span.end].decode(src.encoding, "surrogateescape")
                    if not type_kept(src.format, old, e.content):
                        bad = f"{path}:{e.span.line}:{e.span.col}: {f.code} not fixed: {e.content!r} would not load as the same type as {old!r}"
                if bad:
                    problems.append(bad)
                    continue
                edits.extend(mine)
                ok_fs.append(f)
            if not edits:
                continue
            try:
                new = apply_edits(src.data, edits, src.encoding)
            except (ValueError, UnicodeEncodeError) as e:
                problems.append(f"{path}: not fixed: {e}")
                broken.add(path)
                continue
            if new == src.data:
                continue
            why = _reparse(path, src.format, new, settings)
            if why is not None:
                problems.append(f"{path}: fixes not applied: the fixed file would not parse ({why})")
                broken.add(path)
                continue
            round_data[path] = new
            round_fixed[path] = ok_fs
        if not round_data:
            break
        formats = {p: sources_now[p].format for p in round_data}
        try:
            rechecked = _recheck(round_data, formats, settings, base, reference)
        except Exception as e:  # never write what could not be re-checked
            problems.append(f"fixes not applied: re-checking the fixed files failed ({type(e).__name__}: {e})")
            break
        for path, data in round_data.items():
            if path not in rechecked.sources:
                problems.append(f"{path}: fixes not applied: the fixed file could not be re-checked")
                broken.add(path)
                continue
            current[path] = data
            sources_now[path] = rechecked.sources[path]
            result.comments[path] = rechecked.comments.get(path, {})
            result.recipes[path] = rechecked.recipes.get(path, [])
            for f in round_fixed[path]:
                fixed.setdefault(path, []).append((f.code, f.name))
                rewritten.update((e.span.path, e.span.line, e.span.col) for e in f.fix.edits if e.span.path == path)
            progress = True
        done = {p for p in round_data if p in current and p not in broken}
        done |= {
            p for p in rechecked.covered if p not in round_data and p not in broken
        }  # other members of a config set
        findings = [f for f in findings if f.span.path not in done] + [
            f for f in rechecked.findings if f.span.path in done
        ]
        findings.sort(key=lambda f: f.sort_key)
        if not progress:
            break

    # write (or only diff) what changed
    diff_parts: list[str] = []
    dirs: set[Path] = set()
    for path in sorted(current):
        src = original[path]
        new = current[path]
        if new == src.data:
            continue
        diff_parts.append(unified_diff(path, src, new))
        if write:
            why = write_atomic(path, new, expected=src.data, sync_dir=False)
            dirs.add(Path(path).parent)
            if why is not None:
                problems.append(f"{path}: not written: {why}")
                # report the file as it is on disk: its original findings
                findings = [f for f in findings if f.span.path != path] + [
                    f for f in result.findings if f.span.path == path
                ]
                sources_now[path] = src
                fixed.pop(path, None)
                current.pop(path)
    for d in sorted(dirs):  # one directory fsync per directory, not per file
        fsync_dir(d)
    findings.sort(key=lambda f: f.sort_key)
    new_result = result
    new_result.findings = findings
    new_result.sources = sources_now
    return FixOutcome(new_result, fixed, "".join(diff_parts), problems, dict(current), iterations)


def unified_diff(path: str, src: Source, new: bytes) -> str:
    """``--- a/path`` / ``+++ b/path`` unified diff of the decoded text (BOM left out)."""
    enc = src.encoding
    old_text = src.data[len(src.bom) :].decode(enc, "surrogateescape")
    new_body = new[len(src.bom) :] if src.bom and new.startswith(src.bom) else new
    new_text = new_body.decode(enc, "surrogateescape")
    a = old_text.splitlines(keepends=True)
    b = new_text.splitlines(keepends=True)
    rel = path.replace(os.sep, "/")
    out = []
    for line in difflib.unified_diff(a, b, fromfile=f"a/{rel}", tofile=f"b/{rel}"):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)


def write_atomic(path: str, data: bytes, expected: bytes | None = None, sync_dir: bool = True) -> str | None:
    """Write ``data`` to ``path`` through a temporary file in the same directory; keep the mode.

    Returns None when written, else why not (the file changed on disk since it was read, or an OS error).
    """
    p = Path(path)
    try:
        if expected is not None and read_current(p) != expected:
            return "the file changed on disk since lrlint read it"
        st = p.stat()
        fd, tmp = tempfile.mkstemp(dir=str(p.parent), prefix=f".{p.name}.", suffix=".lrlint-tmp")
    except OSError as e:
        return e.strerror or str(e)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        if expected is not None and read_current(p) != expected:
            os.unlink(tmp)
            return "the file changed on disk since lrlint read it"
        os.replace(tmp, p)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return e.strerror or str(e)
    if sync_dir:
        fsync_dir(p.parent)
    return None


def fsync_dir(d: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        dfd = os.open(str(d), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def read_current(p: Path) -> bytes | None:
    """The file's bytes now (None when it is gone); a seam for tests."""
    try:
        return p.read_bytes()
    except OSError:
        return None


__all__ = ["FixOutcome", "apply", "apply_edits", "select", "type_kept", "write_atomic", "unified_diff", "DISPLAY_ONLY"]


# -- override edits: an lr inherited from a base file is fixed in the child ------------------------


def _span_at(src: Source, char: int) -> Span:
    return src.lines.span(src.path, char, char)


def _indent_unit(node, default: int = 2) -> int:
    """The file's indentation step: the smallest child-minus-parent key column in block mappings."""
    import yaml

    best = None
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode) and not n.flow_style:
            for k, v in n.value:
                if isinstance(v, yaml.MappingNode) and not v.flow_style and v.value:
                    step = v.value[0][0].start_mark.column - k.start_mark.column
                    if step > 0 and (best is None or step < best):
                        best = step
                stack.append(v)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return best or default


def _last_leaf_end(node) -> int:
    """Character offset where the last scalar (or flow collection) under ``node`` ends."""
    import yaml

    while True:
        if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
            node = node.value[-1][1]
        elif isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
            node = node.value[-1]
        else:
            return node.end_mark.index


def yaml_override(src: Source, dotted: str, content: str) -> Edit | None:
    """An edit that sets ``dotted`` (e.g. ``optimizer.lr``) to ``content`` in a YAML file.

    An existing key has its value replaced; a missing one is inserted under the right block mapping,
    after its last entry, with the file's indentation, creating the missing mappings. None where that
    cannot be done safely (flow mappings, a non-mapping in the way, several documents, a parse error).
    """
    import yaml

    text = src.text
    try:
        docs = list(yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return None
    if len(docs) > 1:
        return None
    root = docs[0] if docs else None
    parts = dotted.split(".")
    unit = _indent_unit(root) if root is not None else 2
    if root is None or (isinstance(root, yaml.ScalarNode) and root.value == "" and root.tag.endswith(":null")):
        prefix = "" if not text or text.endswith("\n") else "\n"
        body = _nested(parts, content, 0, unit)
        return Edit(_span_at(src, len(text)), prefix + body)
    node = root
    for i, part in enumerate(parts):
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            return None
        found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        if found is None:
            if not node.value:
                return None
            col = node.value[0][0].start_mark.column
            end = _last_leaf_end(node)
            nl = text.find("\n", end)
            if nl == -1:
                at, prefix = len(text), "\n"
            else:
                at, prefix = nl + 1, ""
            return Edit(_span_at(src, at), prefix + _nested(parts[i:], content, col, unit))
        if i == len(parts) - 1:
            if not isinstance(found, yaml.ScalarNode):
                return None
            s, e = found.start_mark.index, found.end_mark.index
            return Edit(src.lines.span(src.path, s, e), content)
        node = found
    return None


def _nested(parts: list[str], content: str, col: int, unit: int) -> str:
    lines = []
    for depth, part in enumerate(parts):
        pad = " " * (col + depth * unit)
        lines.append(f"{pad}{part}: {content}" if depth == len(parts) - 1 else f"{pad}{part}:")
    return "\n".join(lines) + "\n"


def _calls_read_base(node) -> bool:
    import ast as _ast

    if not isinstance(node, _ast.Call):
        return False
    f = node.func
    return (isinstance(f, _ast.Name) and f.id == "read_base") or (
        isinstance(f, _ast.Attribute) and f.attr == "read_base"
    )


def python_dict_override(src: Source, dotted: str, content: str) -> Edit | None:
    """An edit that sets ``dotted`` in an MMEngine-style Python config (``name = dict(...)``).

    ``optim_wrapper.optimizer.lr`` in a child without ``optim_wrapper`` appends
    ``optim_wrapper = dict(optimizer=dict(lr=...))`` (MMEngine merges it into the base's dict), or, in a
    pure-Python config whose bases come from ``with read_base():`` (where an assignment would replace
    the inherited dict), ``optim_wrapper.optimizer.lr = ...``; an existing ``dict(...)`` gets the missing
    keyword added in place, an existing ``lr=`` is replaced.
    Nothing is executed: the file is read with ``ast``. None where the shape is not plain dict calls.
    """
    import ast as _ast

    text = src.text
    try:
        tree = _ast.parse(text)
    except SyntaxError:
        return None
    parts = dotted.split(".")

    def char_of(lineno: int, col: int) -> int:
        line = src.lines.line_text(lineno) if lineno <= len(src.lines.line_starts) else ""
        return src.lines.line_starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    def nested_kw(rest: list[str]) -> str:
        out = content
        for p in reversed(rest[1:]):
            out = f"dict({p}={out})"
        return f"{rest[0]}={out}"

    target = None
    for stmt in tree.body:
        if (
            isinstance(stmt, _ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], _ast.Name)
            and stmt.targets[0].id == parts[0]
        ):
            target = stmt
    if target is None:
        prefix = "" if not text or text.endswith("\n") else "\n"
        if any(
            isinstance(st, _ast.With) and any(_calls_read_base(i.context_expr) for i in st.items) for st in tree.body
        ):
            return Edit(_span_at(src, len(text)), f"{prefix}{dotted} = {content}\n")
        value = content
        for p in reversed(parts[1:]):
            value = f"dict({p}={value})"
        prefix = "" if not text or text.endswith("\n") else "\n"
        return Edit(_span_at(src, len(text)), f"{prefix}{parts[0]} = {value}\n")
    node = target.value
    for i, part in enumerate(parts[1:], start=1):
        if not (
            isinstance(node, _ast.Call)
            and isinstance(node.func, _ast.Name)
            and node.func.id == "dict"
            and not node.args
        ):
            return None
        kw = next((k for k in node.keywords if k.arg == part), None)
        if kw is None:
            close = char_of(node.end_lineno, node.end_col_offset) - 1  # the closing parenthesis
            if text[close] != ")":
                return None
            before = text[:close].rstrip()
            if before.endswith("("):
                sep = ""
            elif before.endswith(","):
                sep = "" if text[close - 1].isspace() else " "
            else:
                sep = ", "
            return Edit(_span_at(src, close), sep + nested_kw(parts[i:]))
        if i == len(parts) - 1:
            v = kw.value
            s, e = char_of(v.lineno, v.col_offset), char_of(v.end_lineno, v.end_col_offset)
            return Edit(src.lines.span(src.path, s, e), content)
        node = kw.value
    return None
