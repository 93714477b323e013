"""Message templates in Django's template language, checked before they are saved.

A seller edits these, so a template may only use the variables a message has (``lead.first_name``,
``appointment.when``, ...) and a few harmless tags. Anything else is refused with its line number,
which means a typo is caught when saving instead of when a prospect receives "Dear ,".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.base import FilterExpression, Node, TextNode, Variable, VariableNode
from django.template.defaulttags import CommentNode, ForNode, IfNode, WithNode

from rebook.errors import RebookError

# What a message template can use. A name mapped to a set has those attributes; to None, it is a
# plain value (text, a flag, or a list of texts to loop over).
_TIME = {"when", "date", "time", "timezone", "location", "length"}
VARIABLES: dict[str, set[str] | None] = {
    "lead": {"name", "first_name", "company", "email"},
    "seller": {"name", "first_name", "email"},
    "appointment": _TIME,  # the meeting the message is about (booked, rebooked or confirmed)
    "missed": _TIME,  # the meeting that was cancelled, for connecting moments and offers
    "next": _TIME,  # the rebooked meeting after a cancellation, when there is one
    "cancelled_by_seller": None,
    "info": {"text", "links", "files"},
    "slots": None,  # each prints as its time, and has .when and .url
    "manage_url": None,  # the prospect's page to move or cancel the meeting (empty when links are off)
    "more_times_url": None,  # after a cancellation: a page with more free times to pick from
    "unsubscribe_url": None,
}
# What the items of a list have, when looped over.
ITEMS: dict[str, set[str]] = {"slots": {"when", "url"}}
_LOOP_ATTRS = {"counter", "counter0", "revcounter", "revcounter0", "first", "last"}
_ALLOWED_TAGS = (TextNode, VariableNode, IfNode, ForNode, WithNode, CommentNode)
_TAG_NAMES = "if/elif/else, for/empty, with, comment"


class TemplateError(RebookError):
    def __init__(self, part: str, line: int, problem: str):
        self.part, self.line, self.problem = part, line, problem
        super().__init__(f"{part}, line {line}: {problem}")


@cache
def _engine(autoescape: bool) -> Engine:
    # debug=True keeps line numbers on syntax errors; no loaders, so {% include %} cannot read files.
    return Engine(debug=True, autoescape=autoescape, loaders=[], libraries={})


def compile_template(source: str, *, part: str, html: bool = False) -> Template:
    """Parse and check a template, or raise TemplateError naming the part, the line and the problem."""
    try:
        template = _engine(html).from_string(source)
    except TemplateSyntaxError as e:
        line = getattr(e, "template_debug", {}).get("line", 1)
        raise TemplateError(part, line, str(e).split(" Did you forget")[0]) from None
    _check_nodes(template.nodelist, part, scope={})
    return template


def render(template: Template, context: Mapping[str, object]) -> str:
    # Context escapes by default; only the HTML engine should.
    return template.render(Context(dict(context), autoescape=template.engine.autoescape))


def _check_nodes(nodes: Iterable[Node], part: str, scope: dict[str, set[str] | None]) -> None:
    for node in nodes:
        line = node.token.lineno if getattr(node, "token", None) else 1
        if not isinstance(node, _ALLOWED_TAGS):
            tag = node.token.contents.split()[0] if getattr(node, "token", None) else type(node).__name__
            raise TemplateError(part, line, f"the tag {{% {tag} %}} is not available; use {_TAG_NAMES}")
        if isinstance(node, VariableNode):
            _check_expression(node.filter_expression, part, line, scope)
        elif isinstance(node, IfNode):
            for condition, body in node.conditions_nodelists:
                if condition is not None:
                    _check_condition(condition, part, line, scope)
                _check_nodes(body, part, scope)
        elif isinstance(node, ForNode):
            _check_expression(node.sequence, part, line, scope)
            sequence = node.sequence.var.var if isinstance(node.sequence.var, Variable) else None
            inner = {**scope, "forloop": _LOOP_ATTRS, **{name: ITEMS.get(sequence) for name in node.loopvars}}
            _check_nodes(node.nodelist_loop, part, inner)
            _check_nodes(node.nodelist_empty, part, scope)
        elif isinstance(node, WithNode):
            for expression in node.extra_context.values():
                _check_expression(expression, part, line, scope)
            _check_nodes(node.nodelist, part, {**scope, **{name: None for name in node.extra_context}})


def _check_condition(condition, part: str, line: int, scope) -> None:
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        _check_expression(value, part, line, scope)
    for side in ("first", "second"):
        child = getattr(condition, side, None)
        if child is not None:
            _check_condition(child, part, line, scope)


def _check_expression(expression: FilterExpression, part: str, line: int, scope) -> None:
    _check_variable(expression.var, part, line, scope)
    for _func, args in expression.filters:
        for is_variable, arg in args:
            if is_variable:
                _check_variable(arg, part, line, scope)


def _check_variable(var: object, part: str, line: int, scope) -> None:
    if not isinstance(var, Variable) or var.lookups is None:
        return  # a literal: "text", 3, 1.5
    name, *attrs = var.lookups
    known = {**VARIABLES, **scope}
    if name not in known:
        raise TemplateError(part, line, f"unknown variable {name!r}; available: {', '.join(sorted(VARIABLES))}")
    allowed = known[name]
    if attrs and (allowed is None or attrs[0] not in allowed or len(attrs) > 1):
        options = ", ".join(f"{name}.{a}" for a in sorted(allowed or ())) or f"{name} on its own"
        raise TemplateError(part, line, f"unknown variable {var.var!r}; available: {options}")
