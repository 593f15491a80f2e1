"""The definitions in a source file: classes, functions, methods, types, and their nesting.

One walk over a tree-sitter syntax tree, shared by outlines (`outline`) and search chunks
(`chunks`). The walk visits only where definitions live (a module's top level, class,
impl, namespace and module bodies, and the conditional or preprocessor blocks around
them), never a function's body: a file with a million statements inside functions costs
no more than its definitions. Nesting is bounded (`_MAX_NESTING`) so hostile input cannot
exhaust the stack.

Each language has a small classifier that says whether a node defines something, what
kind, its name, where its header ends (the body's start: the signature is the header
text), and which body holds nested definitions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node

from codifier.codemap.languages import DEFAULT_LIMITS, ParseLimits, parse

SIGNATURE_CHARS = 200  # a longer signature is cut and ends with "…"
_HEADER_BYTES = 2_000  # header text read for a signature: enough for 200 collapsed chars
_MAX_NESTING = 48  # containers and blocks inside each other; deeper ones are not visited


@dataclass(frozen=True, slots=True)
class Definition:
    kind: str  # class, function, method, interface, struct, enum, trait, impl, module, ...
    name: str
    signature: str  # the header up to the body, whitespace collapsed, at most 200 chars
    line: int  # 1-based line where the header starts (decorators, annotations excluded)
    start_line: int  # first line, with decorators and the comments right above it
    end_line: int  # last line, inclusive
    depth: int  # enclosing definitions: a method in a class is 1
    standalone: bool  # has a body of its own (False: a prototype, an abstract signature)
    children: tuple[Definition, ...] = ()


def definitions(
    language: str, text: str, limits: ParseLimits = DEFAULT_LIMITS
) -> list[Definition] | None:
    """The file's top-level definitions, each holding its nested ones.

    None when the language has no grammar or the parse is refused (over the size bound
    or the time bound). Lines are "\\n"-separated, as the packer counts them."""
    classify = _CLASSIFIERS.get(language)
    if classify is None:
        return None
    data = text.encode("utf-8", "replace")
    tree = parse(language, data, limits)
    if tree is None:
        return None
    walker = _Walker(data, classify, _LEADING.get(language, frozenset()))
    return walker.collect(tree.root_node, depth=0, parent_kind="", nesting=0)


@dataclass(slots=True)
class _Found:
    """One definition a classifier recognised, before its nested ones are collected."""

    kind: str
    name: str
    node: Node  # whose lines the definition spans
    header_start: int  # byte where the signature starts
    header_end: int  # byte where it ends (the body's start)
    body: Node | None = None  # holds nested definitions
    standalone: bool = True
    prefix: str = ""  # put before the header text (Go's grouped "type (...)" specs)
    start_node: Node | None = None  # a wrapper whose start comes first (decorators, export)


# A classifier: (walker, node, parent kind) -> what the node defines; [] when nothing.
# A node that is a block of further definitions (an `if` around definitions, a
# preprocessor conditional) returns the `_BLOCK` marker instead.
Classifier = Callable[["_Walker", Node, str], "list[_Found] | _Block"]


class _Block:
    """Marker: the node is not a definition but holds definitions at the same depth."""


_BLOCK = _Block()


class _Walker:
    def __init__(self, data: bytes, classify: Classifier, leading: frozenset[str]) -> None:
        self.data = data
        self.classify = classify
        self.leading = leading

    # -- helpers the classifiers use ------------------------------------------------------

    def text(self, node: Node | None) -> str:
        if node is None:
            return ""
        end = min(node.end_byte, node.start_byte + _HEADER_BYTES)
        return " ".join(self.data[node.start_byte : end].decode("utf-8", "replace").split())

    def name(self, node: Node, field_name: str = "name", default: str = "") -> str:
        return self.text(node.child_by_field_name(field_name)) or default

    def found(
        self,
        node: Node,
        kind: str,
        name: str,
        *,
        body: Node | None = None,
        header_end: int | None = None,
        standalone: bool = True,
    ) -> _Found:
        """A definition whose header runs from the node's start to its body (or its end)."""
        if header_end is None:
            end_node = node.child_by_field_name("body")
            header_end = end_node.start_byte if end_node is not None else node.end_byte
        return _Found(
            kind, name, node, node.start_byte, header_end, body=body, standalone=standalone
        )

    # -- the walk -------------------------------------------------------------------------

    def collect(
        self, body: Node, *, depth: int, parent_kind: str, nesting: int
    ) -> list[Definition]:
        """Definitions among `body`'s children, each with its leading comments attached."""
        out: list[Definition] = []
        if nesting > _MAX_NESTING:
            return out
        lead_start = -1  # first row of the comments/attributes right above the next node
        lead_end = -2
        previous_end = -1  # last row of the previous non-leading child
        for child in body.named_children:
            start_row = child.start_point.row
            if child.type in self.leading:
                if start_row == previous_end:  # a trailing comment on the previous line
                    lead_start = -1
                elif lead_start < 0 or start_row > lead_end + 1:
                    lead_start = start_row
                lead_end = _end_row(child)
                continue
            attached = lead_start if lead_start >= 0 and start_row <= lead_end + 1 else -1
            lead_start = -1
            previous_end = _end_row(child)
            result = self.classify(self, child, parent_kind)
            if isinstance(result, _Block):
                out += self.collect(
                    child, depth=depth, parent_kind=parent_kind, nesting=nesting + 1
                )
                continue
            for index, item in enumerate(result):
                out.append(self._definition(item, depth, nesting, attached if index == 0 else -1))
        return out

    def _definition(self, item: _Found, depth: int, nesting: int, attached: int) -> Definition:
        outer = item.start_node or item.node
        start_row = outer.start_point.row
        if attached >= 0:
            start_row = min(start_row, attached)
        children: list[Definition] = []
        if item.body is not None:
            children = self.collect(
                item.body, depth=depth + 1, parent_kind=item.kind, nesting=nesting + 1
            )
        header_end = max(item.header_start, min(item.header_end, item.header_start + _HEADER_BYTES))
        raw = self.data[item.header_start : header_end]
        if b"#" in raw or b"//" in raw or b"/*" in raw:
            raw = self._without_comments(item.node, item.header_start, header_end)
        signature = _signature(item.prefix + raw.decode("utf-8", "replace"))
        line = _row_of(self.data, item.header_start, outer) + 1
        return Definition(
            kind=item.kind,
            name=item.name,
            signature=signature,
            line=line,
            start_line=start_row + 1,
            end_line=max(_end_row(item.node), _end_row(outer)) + 1,
            depth=depth,
            standalone=item.standalone,
            children=tuple(children),
        )

    def _without_comments(self, node: Node, start: int, end: int) -> bytes:
        """The header's bytes with its comments left out (`# noqa` inside parameters)."""
        comments: list[tuple[int, int]] = []
        pending = [node]
        while pending:
            current = pending.pop()
            for child in current.children:
                if child.end_byte <= start or child.start_byte >= end:
                    continue
                if "comment" in child.type:
                    comments.append((child.start_byte, child.end_byte))
                else:
                    pending.append(child)
        if not comments:
            return self.data[start:end]
        parts: list[bytes] = []
        cursor = start
        for low, high in sorted(comments):
            parts.append(self.data[cursor : max(cursor, low)])
            cursor = max(cursor, high)
        parts.append(self.data[cursor:end])
        return b" ".join(parts)


def _end_row(node: Node) -> int:
    """The last row holding the node's text (a node ending at column 0 ends the row above)."""
    end = node.end_point
    if end.column == 0 and end.row > node.start_point.row:
        return int(end.row) - 1
    return int(end.row)


def _row_of(data: bytes, offset: int, node: Node) -> int:
    """The row of a byte inside `node`, counted from the node's start row."""
    start = node.start_byte
    if offset <= start:
        return int(node.start_point.row)
    return int(node.start_point.row) + data.count(b"\n", start, offset)


def _signature(raw: str) -> str:
    text = " ".join(raw.split())
    for before, after in (("( ", "("), (" )", ")"), (",)", ")"), ("[ ", "["), (" ]", "]")):
        text = text.replace(before, after)
    text = text.replace(",]", "]")
    while text and text[-1] in "{:;,":
        text = text[:-1].rstrip()
    if len(text) > SIGNATURE_CHARS:
        text = text[: SIGNATURE_CHARS - 1].rstrip() + "…"
    return text


def _first_of(node: Node, types: frozenset[str]) -> Node | None:
    for child in node.named_children:
        if child.type in types:
            return child
    return None


def _start_after(node: Node, skipped: frozenset[str]) -> int:
    """Where the node's header starts once leading decorators and comments are skipped."""
    for child in node.children:
        if child.type not in skipped:
            return child.start_byte
    return node.start_byte


# -- Python --------------------------------------------------------------------------------

_PY_BLOCKS = frozenset(
    {"if_statement", "elif_clause", "else_clause", "try_statement", "except_clause",
     "finally_clause", "with_statement", "block"}
)  # fmt: skip


def _python(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    if kind == "decorated_definition":
        inner = node.child_by_field_name("definition")
        if inner is None:
            return []
        found = _python(w, inner, parent)
        if isinstance(found, list):
            for item in found:
                item.start_node = node
        return found
    if kind == "function_definition":
        body = node.child_by_field_name("body")
        colon = _last_colon(node, body)
        return [
            w.found(
                node,
                "method" if parent == "class" else "function",
                w.name(node),
                header_end=colon,
            )
        ]
    if kind == "class_definition":
        body = node.child_by_field_name("body")
        return [w.found(node, "class", w.name(node), body=body, header_end=_last_colon(node, body))]
    if kind in _PY_BLOCKS:
        return _BLOCK
    return []


def _last_colon(node: Node, body: Node | None) -> int:
    """The ":" ending a Python header (a comment after it must not join the signature)."""
    limit = body.start_byte if body is not None else node.end_byte
    colon = limit
    for child in node.children:
        if child.start_byte >= limit:
            break
        if child.type == ":":
            colon = child.start_byte
    return colon


# -- JavaScript, TypeScript, TSX -----------------------------------------------------------

_JS_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
_JS_CLASS_TYPES = frozenset({"class_declaration", "abstract_class_declaration", "class"})
_JS_SKIPPED_AT_START = frozenset({"decorator", "comment"})


def _javascript(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    member = "method" if parent in ("class", "interface") else "function"
    if kind in ("function_declaration", "generator_function_declaration"):
        return [w.found(node, member, w.name(node))]
    if kind == "function_signature":
        return [w.found(node, member, w.name(node), standalone=False)]
    if kind in _JS_CLASS_TYPES:
        return [w.found(node, "class", w.name(node, default="default"), body=_body(node))]
    if kind == "interface_declaration":
        return [w.found(node, "interface", w.name(node), body=_body(node))]
    if kind == "type_alias_declaration":
        return [w.found(node, "type", w.name(node), header_end=node.end_byte)]
    if kind == "enum_declaration":
        return [w.found(node, "enum", w.name(node))]
    if kind in ("internal_module", "module"):
        return [w.found(node, "module", w.name(node), body=_body(node))]
    if kind == "method_definition":
        return [w.found(node, "method", w.name(node))]
    if kind in ("method_signature", "abstract_method_signature"):
        return [w.found(node, "method", w.name(node), standalone=False)]
    if kind in ("public_field_definition", "field_definition"):
        value = node.child_by_field_name("value")
        if value is None or value.type not in _JS_FUNCTION_VALUES:
            return []
        name = w.name(node) or w.name(node, "property")
        return [w.found(node, "method", name, header_end=_value_body_start(value))]
    if kind in ("lexical_declaration", "variable_declaration"):
        return _js_declarators(w, node, member)
    if kind == "expression_statement":
        return _js_expression(w, node, parent)
    if kind == "export_statement":
        return _js_export(w, node, parent)
    if kind == "ambient_declaration":
        return _BLOCK
    return []


def _body(node: Node) -> Node | None:
    return node.child_by_field_name("body")


def _value_body_start(value: Node) -> int:
    body = value.child_by_field_name("body")
    return body.start_byte if body is not None else value.end_byte


def _js_declarators(w: _Walker, node: Node, kind: str) -> list[_Found]:
    declarators = [c for c in node.named_children if c.type == "variable_declarator"]
    out: list[_Found] = []
    for declarator in declarators:
        value = declarator.child_by_field_name("value")
        if value is None or value.type not in _JS_FUNCTION_VALUES:
            continue
        span = node if len(declarators) == 1 else declarator
        item = w.found(span, kind, w.name(declarator), header_end=_value_body_start(value))
        item.header_start = node.start_byte if span is node else declarator.start_byte
        out.append(item)
    return out


def _js_expression(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    inner = node.named_children[0] if node.named_child_count else None
    if inner is None:
        return []
    if inner.type in ("internal_module", "module"):
        found = _javascript(w, inner, parent)
        if isinstance(found, list):
            for item in found:
                item.start_node = node
        return found
    if inner.type == "assignment_expression":
        right = inner.child_by_field_name("right")
        if right is not None and right.type in _JS_FUNCTION_VALUES:
            name = w.text(inner.child_by_field_name("left"))
            return [w.found(node, "function", name, header_end=_value_body_start(right))]
    return []


def _js_export(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    inner = node.child_by_field_name("declaration") or node.child_by_field_name("value")
    if inner is None:
        return []
    found = _javascript(w, inner, parent)
    if isinstance(found, _Block):
        return found
    if inner.type in _JS_FUNCTION_VALUES and not found:  # export default () => ...
        found = [w.found(inner, "function", "default", header_end=_value_body_start(inner))]
    start = _start_after(node, _JS_SKIPPED_AT_START)
    for item in found:
        item.start_node = node
        if item.header_start == inner.start_byte:
            item.header_start = start
    return found


# -- Go --------------------------------------------------------------------------------------


def _go(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    if kind == "function_declaration":
        return [w.found(node, "function", w.name(node))]
    if kind == "method_declaration":
        receiver = _go_receiver(w, node)
        name = w.name(node)
        return [w.found(node, "method", f"{receiver}.{name}" if receiver else name)]
    if kind == "method_elem":
        return [w.found(node, "method", w.name(node), standalone=False)]
    if kind == "type_declaration":
        specs = [c for c in node.named_children if c.type in ("type_spec", "type_alias")]
        out: list[_Found] = []
        for spec in specs:
            span = node if len(specs) == 1 else spec
            item = _go_type(w, spec, span)
            if len(specs) > 1:
                item.prefix = "type "
            out.append(item)
        return out
    return []


def _go_receiver(w: _Walker, node: Node) -> str:
    receiver = node.child_by_field_name("receiver")
    declaration = _first_of(receiver, frozenset({"parameter_declaration"})) if receiver else None
    if declaration is None:
        return ""
    text = w.text(declaration.child_by_field_name("type"))
    return text.lstrip("*").split("[", 1)[0]


def _go_type(w: _Walker, spec: Node, span: Node) -> _Found:
    shape = spec.child_by_field_name("type")
    shape_type = shape.type if shape is not None else ""
    kind = {"struct_type": "struct", "interface_type": "interface"}.get(shape_type, "type")
    brace = w.data.find(b"{", span.start_byte, span.end_byte)
    return w.found(
        span,
        kind,
        w.name(spec),
        body=shape if shape_type == "interface_type" else None,
        header_end=brace if brace >= 0 else span.end_byte,
    )


# -- Rust --------------------------------------------------------------------------------------

_RUST_TYPES = {"struct_item": "struct", "union_item": "union", "enum_item": "enum"}


def _rust(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    member = "method" if parent in ("impl", "trait") else "function"
    if kind == "function_item":
        return [w.found(node, member, w.name(node))]
    if kind == "function_signature_item":
        return [w.found(node, member, w.name(node), standalone=False)]
    if kind in _RUST_TYPES:
        return [w.found(node, _RUST_TYPES[kind], w.name(node))]
    if kind == "trait_item":
        return [w.found(node, "trait", w.name(node), body=_body(node))]
    if kind == "impl_item":
        name = w.text(node.child_by_field_name("type")).split("<", 1)[0]
        return [w.found(node, "impl", name, body=_body(node))]
    if kind == "mod_item":
        body = _body(node)
        return [] if body is None else [w.found(node, "module", w.name(node), body=body)]
    if kind == "type_item":
        return [w.found(node, "type", w.name(node), header_end=node.end_byte)]
    if kind == "macro_definition":
        name_node = node.child_by_field_name("name")
        end = name_node.end_byte if name_node is not None else node.end_byte
        return [w.found(node, "macro", w.name(node), header_end=end)]
    return []


# -- Java ------------------------------------------------------------------------------------

_JAVA_TYPES = {
    "class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "record_declaration": "record",
    "annotation_type_declaration": "annotation",
}
_JAVA_ANNOTATIONS = frozenset({"marker_annotation", "annotation", "line_comment", "block_comment"})


def _java(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    item: _Found | None = None
    if kind in _JAVA_TYPES:
        item = w.found(node, _JAVA_TYPES[kind], w.name(node), body=_body(node))
    elif kind == "method_declaration":
        body = _body(node)
        item = w.found(node, "method", w.name(node), standalone=body is not None)
    elif kind in ("constructor_declaration", "compact_constructor_declaration"):
        item = w.found(node, "constructor", w.name(node))
    elif kind == "enum_body_declarations":
        return _BLOCK
    if item is None:
        return []
    item.header_start = _java_header_start(node)
    return [item]


def _java_header_start(node: Node) -> int:
    """Where the header starts after annotations (`@Override` on the line above)."""
    for child in node.children:
        if child.type == "modifiers":
            for modifier in child.children:
                if modifier.type not in _JAVA_ANNOTATIONS:
                    return modifier.start_byte
            continue
        if child.type not in _JAVA_ANNOTATIONS:
            return child.start_byte
    return node.start_byte


# -- Ruby ------------------------------------------------------------------------------------


def _ruby(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    if kind in ("class", "module"):
        return [_ruby_found(w, node, kind, w.name(node), container=True)]
    if kind == "singleton_class":
        return [_ruby_found(w, node, "class", "self", container=True)]
    if kind == "method":
        member = "method" if parent in ("class", "module") else "function"
        return [_ruby_found(w, node, member, w.name(node), container=False)]
    if kind == "singleton_method":
        name = f"{w.text(node.child_by_field_name('object'))}.{w.name(node)}"
        return [_ruby_found(w, node, "method", name, container=False)]
    return []


def _ruby_found(w: _Walker, node: Node, kind: str, name: str, *, container: bool) -> _Found:
    body = _body(node)
    if body is not None:
        end = body.start_byte
    else:  # an empty body: the header is the first line
        newline = w.data.find(b"\n", node.start_byte, node.end_byte)
        end = newline if newline >= 0 else node.end_byte
    return w.found(node, kind, name, body=body if container else None, header_end=end)


# -- C and C++ -------------------------------------------------------------------------------

_C_BLOCKS = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef",
     "linkage_specification", "declaration_list"}
)  # fmt: skip
_C_TYPES = {
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
    "class_specifier": "class",
}
_C_NAMES = frozenset(
    {"identifier", "field_identifier", "qualified_identifier", "destructor_name",
     "operator_name", "type_identifier", "template_function", "operator_cast"}
)  # fmt: skip
_C_CLASSES = frozenset({"class", "struct", "union"})


def _c(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    kind = node.type
    member = "method" if parent in _C_CLASSES else "function"
    if kind == "function_definition":
        body = _body(node)
        end = body.start_byte if body is not None else node.end_byte
        initializers = _first_of(node, frozenset({"field_initializer_list"}))
        if initializers is not None:
            end = min(end, initializers.start_byte)
        name = _c_name(w, node)
        return [w.found(node, member, name, header_end=end, standalone=body is not None)]
    if kind in _C_TYPES:
        body = _body(node)
        if body is None:
            return []
        return [w.found(node, _C_TYPES[kind], w.name(node, default="(anonymous)"), body=body)]
    if kind in ("declaration", "type_definition", "field_declaration"):
        return _c_declaration(w, node, member)
    if kind == "template_declaration":
        return _c_template(w, node, parent)
    if kind == "namespace_definition":
        name = w.name(node, default="(anonymous)")
        return [w.found(node, "namespace", name, body=_body(node))]
    if kind in _C_BLOCKS:
        return _BLOCK
    return []


def _c_name(w: _Walker, node: Node) -> str:
    declarator = node.child_by_field_name("declarator")
    for _ in range(16):  # pointer, reference, function and array declarators nest
        if declarator is None:
            return ""
        if declarator.type in _C_NAMES:
            return w.text(declarator)
        declarator = declarator.child_by_field_name("declarator")
    return ""


def _c_function_declarator(node: Node) -> bool:
    """Whether a declaration declares a function (not a pointer to one: `int (*f)(int)`)."""
    declarator = node.child_by_field_name("declarator")
    for _ in range(16):
        if declarator is None:
            return False
        if declarator.type == "function_declarator":
            inner = declarator.child_by_field_name("declarator")
            return inner is None or inner.type != "parenthesized_declarator"
        declarator = declarator.child_by_field_name("declarator")
    return False


def _c_declaration(w: _Walker, node: Node, member: str) -> list[_Found]:
    shape = node.child_by_field_name("type")
    if shape is not None and shape.type in _C_TYPES:
        body = _body(shape)
        if body is not None:  # `typedef struct point {...} point_t;`
            name = w.name(shape) or _c_name(w, node) or "(anonymous)"
            item = w.found(node, _C_TYPES[shape.type], name, body=body, header_end=body.start_byte)
            return [item]
    if _c_function_declarator(node):  # a prototype
        return [w.found(node, member, _c_name(w, node), header_end=node.end_byte, standalone=False)]
    return []


def _c_template(w: _Walker, node: Node, parent: str) -> list[_Found] | _Block:
    for child in node.named_children:
        if child.type in ("template_parameter_list", "comment"):
            continue
        found = _c(w, child, parent)
        if isinstance(found, _Block):
            return []
        for item in found:
            item.start_node = node
            item.header_start = node.start_byte
        if found:
            return found
    return []


_CLASSIFIERS: dict[str, Classifier] = {
    "python": _python,
    "javascript": _javascript,
    "jsx": _javascript,
    "typescript": _javascript,
    "tsx": _javascript,
    "go": _go,
    "rust": _rust,
    "java": _java,
    "ruby": _ruby,
    "c": _c,
    "cpp": _c,
}

# Nodes that belong to the definition right below them: comments, decorators, attributes.
_LEADING: dict[str, frozenset[str]] = {
    "python": frozenset({"comment"}),
    "javascript": frozenset({"comment", "decorator"}),
    "jsx": frozenset({"comment", "decorator"}),
    "typescript": frozenset({"comment", "decorator"}),
    "tsx": frozenset({"comment", "decorator"}),
    "go": frozenset({"comment"}),
    "rust": frozenset({"line_comment", "block_comment", "attribute_item"}),
    "java": frozenset({"line_comment", "block_comment"}),
    "ruby": frozenset({"comment"}),
    "c": frozenset({"comment"}),
    "cpp": frozenset({"comment"}),
}
