"""How hard a piece of code is, from its syntax tree: cyclomatic complexity, nesting depth, size and
the number of distinct outside names it uses, folded into one score that `stronger_threshold` cuts.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node, Tree

from spark_lsp.actions.syntax import Source, is_comment

# Node types (across the grammars we ship) that add a path through the code.
DECISIONS = frozenset({
    "if_statement", "elif_clause", "if_expression", "else_if_clause", "conditional_expression",
    "ternary_expression", "for_statement", "for_in_statement", "for_of_statement",
    "enhanced_for_statement", "for_expression", "while_statement", "while_expression",
    "do_statement", "loop_expression", "except_clause", "catch_clause", "case_clause",
    "switch_case", "expression_case", "type_case", "communication_case", "match_arm",
    "case_statement", "switch_label", "for_in_clause", "if_clause", "guard", "boolean_operator",
    "try_expression", "select_statement",
})
# Node types that nest: each adds one level of depth to what is inside them.
NESTING = frozenset({
    "if_statement", "if_expression", "for_statement", "for_in_statement", "for_of_statement",
    "enhanced_for_statement", "for_expression", "while_statement", "while_expression",
    "do_statement", "loop_expression", "switch_statement", "expression_switch_statement",
    "type_switch_statement", "match_statement", "match_expression", "try_statement",
    "with_statement", "select_statement", "list_comprehension", "dictionary_comprehension",
    "set_comprehension", "generator_expression", "lambda", "arrow_function", "closure_expression",
    "func_literal", "lambda_expression",
})
_SHORT_CIRCUIT = frozenset({"&&", "||", "??", "and", "or"})
_NAMES = frozenset({"identifier", "type_identifier", "field_identifier", "property_identifier",
                    "scoped_identifier", "package_identifier"})
_BINDING_PARENTS = frozenset({
    "parameters", "typed_parameter", "default_parameter", "typed_default_parameter",
    "formal_parameters", "required_parameter", "optional_parameter", "parameter",
    "parameter_declaration", "parameter_list", "self_parameter", "variable_declarator",
    "let_declaration", "for_in_clause", "pattern_list", "tuple_pattern", "function_definition",
    "function_declaration", "function_item", "method_definition", "class_definition",
    "lambda_parameters", "closure_parameters", "for_statement", "for_in_statement",
    "range_clause", "as_pattern_target", "identifier_list", "short_var_declaration",
    "var_spec", "const_spec",
})

# Weights of the score. One point per decision; nesting beyond the first level, size and the
# breadth of outside names add to it. A one-line statement scores about 1-2; a 30-line function
# with nested loops and branches 15 and up.
DEPTH_WEIGHT = 2.0
LINES_PER_POINT = 10.0
NAMES_PER_POINT = 4.0
AUTO_THRESHOLD = 10.0


@dataclass(frozen=True)
class Complexity:
    cyclomatic: int
    depth: int
    lines: int
    external_names: int

    @property
    def score(self) -> float:
        return round(
            self.cyclomatic
            + DEPTH_WEIGHT * max(0, self.depth - 1)
            + self.lines / LINES_PER_POINT
            + self.external_names / NAMES_PER_POINT,
            2,
        )


def _is_decision(node: Node) -> bool:
    if node.type in DECISIONS:
        return True
    if node.type == "binary_expression":
        operator = node.child_by_field_name("operator")
        return operator is not None and operator.type in _SHORT_CIRCUIT
    return False


def _binds(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type in _BINDING_PARENTS:
        return True
    if parent.type in ("assignment", "augmented_assignment", "assignment_expression"):
        return parent.child_by_field_name("left") == node
    if parent.type == "expression_list" and parent.parent is not None:
        return parent.parent.type == "short_var_declaration" and \
            parent.parent.child_by_field_name("left") == parent
    return False


def measure(tree: Tree, src: Source, first: int, last: int) -> Complexity:
    """The complexity of rows first..last (inclusive) of the document."""
    decisions, depth = 0, 0
    used: set[str] = set()
    bound: set[str] = set()
    stack: list[tuple[Node, int]] = [(src.covering(tree, first, last), 0)]
    while stack:
        node, level = stack.pop()
        if node.end_point.row < first or node.start_point.row > last:
            continue
        inside = node.start_point.row >= first and node.end_point.row <= last
        if inside and not is_comment(node):
            if _is_decision(node):
                decisions += 1
            if node.type in NESTING:
                level += 1
                depth = max(depth, level)
            if node.type in _NAMES:
                name = src.text(node)
                (bound if _binds(node) else used).add(name)
        stack.extend((c, level) for c in node.children if c is not None)
    lines = sum(1 for line in src.lines[first : last + 1] if line.strip())
    return Complexity(cyclomatic=1 + decisions, depth=depth, lines=lines,
                      external_names=len(used - bound))


def threshold(setting: float | str) -> float:
    """`actions.stronger_threshold`: a number, or "auto" for the built-in cut."""
    return AUTO_THRESHOLD if isinstance(setting, str) else float(setting)
