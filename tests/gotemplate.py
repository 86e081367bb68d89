"""A small renderer for Go's text/template, for the constructs Ollama chat templates use.

Ollama renders a Modelfile's TEMPLATE with Go's text/template; no Go toolchain is at hand in the
tests, so this renders the subset with the same semantics (https://pkg.go.dev/text/template):

- text and actions ``{{ ... }}``, with ``{{-`` / ``-}}`` trimming the whitespace before / after;
- ``if`` / ``else if`` / ``else`` / ``end``; ``range $i, $v := PIPELINE`` (and ``range PIPELINE``);
- variables: ``$x := ...`` declares (scoped to the enclosing if/range, reset on each range
  iteration), ``$x = ...`` assigns the nearest declaration, ``$`` is the data; an action that
  declares or assigns prints nothing;
- operands: ``.``, ``.Field``, ``$x``, ``$x.Field``, ``$.Field``, string and integer literals,
  parenthesised commands; functions ``eq``, ``ne``, ``not``, ``and``, ``or``, ``len``, ``slice``;
- truth as in Go: false, 0, "", empty lists and maps, and nil are false.

Anything else (pipes ``|``, ``with``, ``define``, comments, method calls) raises
``NotImplementedError``, so a template that outgrows this renderer fails its test instead of
rendering wrongly. Data is plain Python: dicts (fields are keys), lists, str, int, bool, None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+)|(?P<lp>\()|(?P<rp>\))"""
                    r"""|(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)|(?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)"""
                    r"""|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>\S))""")
_DECL = re.compile(r"^\s*(\$[A-Za-z0-9_]*)\s*(?:,\s*(\$[A-Za-z0-9_]*)\s*)?(:=|=)(?!=)")


class TemplateError(ValueError):
    pass


# -- parsing --------------------------------------------------------------------------------------

@dataclass
class Pipeline:
    variables: tuple[str, ...]  # declared or assigned variables ($x, or $i, $v in a range)
    assign: bool  # "=" rather than ":="
    command: list  # tokens of the command: [(kind, text), ...]


@dataclass
class If:
    pipeline: Pipeline
    then: list = field(default_factory=list)
    otherwise: list = field(default_factory=list)


@dataclass
class Range:
    pipeline: Pipeline
    body: list = field(default_factory=list)
    otherwise: list = field(default_factory=list)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "other":
            raise NotImplementedError(f"unsupported syntax {m.group(kind)!r} in {{{{{text}}}}}")
        out.append((kind, m.group(kind)))
    return out


def _pipeline(text: str) -> Pipeline:
    if "|" in re.sub(r'"(?:[^"\\]|\\.)*"|`[^`]*`', "", text):
        raise NotImplementedError(f"pipes are not supported: {{{{{text}}}}}")
    m = _DECL.match(text)
    variables, assign = (), False
    if m:
        variables = tuple(v for v in m.group(1, 2) if v)
        assign = m.group(3) == "="
        text = text[m.end():]
    command = _tokens(text)
    if not command:
        raise TemplateError("empty command")
    return Pipeline(variables, assign, command)


def _split(source: str) -> list:
    """Text pieces (trimmed as the "-" markers say) and actions (keyword, rest of the action)."""
    pieces: list = []
    pos, trim_next = 0, False
    for m in _ACTION.finditer(source):
        text = source[pos:m.start()]
        if trim_next:  # the previous action ended with " -}}"
            text = text.lstrip(" \t\r\n")
        if m.group(1):  # "{{- ": trim the whitespace before
            text = text.rstrip(" \t\r\n")
        pieces.append(text)
        body = m.group(2).strip()
        if body.startswith("/*"):
            raise NotImplementedError("comments are not supported")
        word, _, rest = body.partition(" ")
        pieces.append((word, rest.strip()))
        pos, trim_next = m.end(), bool(m.group(3))
    tail = source[pos:]
    pieces.append(tail.lstrip(" \t\r\n") if trim_next else tail)
    return pieces


def parse(source: str) -> list:
    """The template's node tree: str (text), Pipeline (print or set a variable), If, Range."""
    root: list = []
    # (node, the list being filled, whether the node is an "else if" chained onto the one below)
    stack: list[tuple[If | Range | None, list, bool]] = [(None, root, False)]
    for piece in _split(source):
        node, target, chained = stack[-1]
        if isinstance(piece, str):
            if piece:
                target.append(piece)
            continue
        word, rest = piece
        if word in ("if", "range"):
            new = (If if word == "if" else Range)(_pipeline(rest))
            target.append(new)
            stack.append((new, new.then if word == "if" else new.body, False))
        elif word == "else":
            if node is None or target is node.otherwise:
                raise TemplateError("else without if or range, or a second else")
            stack[-1] = (node, node.otherwise, chained)
            if rest.startswith("if "):  # {{else if X}} is {{else}}{{if X}}, closed by the same {{end}}
                nested = If(_pipeline(rest[3:]))
                node.otherwise.append(nested)
                stack.append((nested, nested.then, True))
            elif rest:
                raise NotImplementedError(f"{{{{else {rest}}}}} is not supported")
        elif word == "end":
            while True:  # closes an if or range and every "else if" chained onto it
                if len(stack) == 1:
                    raise TemplateError("end without if or range")
                _, _, chained = stack.pop()
                if not chained:
                    break
        elif word in ("with", "define", "template", "block", "break", "continue"):
            raise NotImplementedError(f"{{{{{word}}}}} is not supported")
        else:
            target.append(_pipeline(f"{word} {rest}".strip()))
    if len(stack) != 1:
        raise TemplateError("missing {{end}}")
    return root


# -- rendering ------------------------------------------------------------------------------------

def truth(value) -> bool:
    return value not in (None, False, 0, "") and not (isinstance(value, list | tuple | dict) and not value)


def _show(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<no value>"
    return str(value)


def _unquote(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1]
    return bytes(token[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def _fields(value, names: list[str], where: str):
    for name in names:
        if not isinstance(value, dict) or name not in value:
            raise TemplateError(f"{where}: no field {name!r} in {type(value).__name__}")
        value = value[name]
    return value


class _State:
    def __init__(self, data):
        self.vars: list[list] = [["$", data]]

    def mark(self) -> int:
        return len(self.vars)

    def pop(self, mark: int) -> None:
        del self.vars[mark:]

    def lookup(self, name: str):
        for var, value in reversed(self.vars):
            if var == name:
                return value
        raise TemplateError(f"undefined variable {name}")

    def set(self, name: str, value) -> None:
        for entry in reversed(self.vars):
            if entry[0] == name:
                entry[1] = value
                return
        raise TemplateError(f"assignment to undeclared variable {name}")


FUNCTIONS = {
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": lambda a, b: a != b,
    "not": lambda a: not truth(a),
    "len": len,
    "slice": lambda x, start=None, end=None: x[start:end],  # slice x 1 is x[1:]
}


def _operand(tokens: list, i: int, state: _State, dot):
    """Evaluate the operand at ``tokens[i]``; returns (value, next index)."""
    kind, text = tokens[i]
    if kind == "lp":
        depth, j = 1, i + 1
        while depth:
            if j == len(tokens):
                raise TemplateError("unclosed (")
            depth += {"lp": 1, "rp": -1}.get(tokens[j][0], 0)
            j += 1
        return _command(tokens[i + 1:j - 1], state, dot), j
    if kind in ("str", "raw"):
        return _unquote(text), i + 1
    if kind == "num":
        return int(text), i + 1
    if kind == "var":
        name, *names = text.split(".")
        return _fields(state.lookup(name), names, text), i + 1
    if kind == "field":
        return (dot if text == "." else _fields(dot, text.split(".")[1:], text)), i + 1
    raise TemplateError(f"unexpected {text!r}")


def _command(tokens: list, state: _State, dot):
    kind, text = tokens[0]
    if kind == "ident":
        if text in ("and", "or"):  # short-circuit, returning the deciding argument, as Go does
            value, i = None, 1
            while i < len(tokens):
                value, i = _operand(tokens, i, state, dot)
                if truth(value) != (text == "and"):
                    return value
            return value
        if text not in FUNCTIONS:
            raise NotImplementedError(f"function {text!r} is not supported")
        args, i = [], 1
        while i < len(tokens):
            value, i = _operand(tokens, i, state, dot)
            args.append(value)
        return FUNCTIONS[text](*args)
    value, i = _operand(tokens, 0, state, dot)
    if i != len(tokens):
        raise TemplateError(f"{text!r} is not a function")
    return value


def _walk(nodes: list, state: _State, dot, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Pipeline):
            value = _command(node.command, state, dot)
            if not node.variables:
                out.append(_show(value))
            elif node.assign:
                state.set(node.variables[0], value)
            else:
                state.vars.append([node.variables[0], value])
        elif isinstance(node, If):
            mark = state.mark()
            value = _command(node.pipeline.command, state, dot)
            if node.pipeline.variables:
                raise NotImplementedError("declarations in if are not supported")
            _walk(node.then if truth(value) else node.otherwise, state, dot, out)
            state.pop(mark)
        elif isinstance(node, Range):
            mark = state.mark()
            items = _command(node.pipeline.command, state, dot)
            pairs = list(items.items()) if isinstance(items, dict) else list(enumerate(items or []))
            for key, item in pairs:
                inner = state.mark()
                names = node.pipeline.variables
                if len(names) == 1:
                    state.vars.append([names[0], item])
                elif len(names) == 2:
                    state.vars += [[names[0], key], [names[1], item]]
                _walk(node.body, state, item, out)
                state.pop(inner)
            if not pairs:
                _walk(node.otherwise, state, dot, out)
            state.pop(mark)


def render(source: str, data) -> str:
    """Render the Go template ``source`` with ``data`` as dot and ``$``."""
    out: list[str] = []
    _walk(parse(source), _State(data), data, out)
    return "".join(out)
