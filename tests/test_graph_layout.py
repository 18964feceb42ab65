"""How draw_dot lays a graph out: the direction "auto" picks, the boxes, the legend, the numbers.

What the pictures look like in a notebook cell (their width, their text size on screen) is
tests/test_graph_display.py's and, in a real JupyterLab, tests/test_jupyterlab.py's.
"""

from __future__ import annotations

import math
import re

import pytest
from example_graphs import chain_rule, first_hidden_neuron, one_xor_prediction

from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.graph import draw_dot


def rankdir(source: str) -> str:
    found = re.search(r"rankdir=(\w+)", source)
    assert found is not None, source
    return found.group(1)


def balanced_sum(leaves: int) -> Value:
    """A sum of `leaves` labelled Values as a balanced tree: broad and shallow."""
    level = [Value(float(i), f"x{i}") for i in range(leaves)]
    while len(level) > 1:
        level = [level[i] + level[i + 1] for i in range(0, len(level), 2)]
    return level[0]


@pytest.mark.parametrize(
    "example", [chain_rule, first_hidden_neuron, one_xor_prediction], ids=lambda f: f.__name__
)
def test_auto_draws_the_notebooks_graphs_top_to_bottom(example: object) -> None:
    root, parameters = example()  # type: ignore[operator]
    assert rankdir(draw_dot(root, parameters=parameters).source) == "TB"


def test_auto_draws_a_broad_shallow_graph_left_to_right() -> None:
    # 16 leaves on one level, 5 levels: top to bottom would be 16 boxes wide.
    assert rankdir(draw_dot(balanced_sum(16)).source) == "LR"
    # 4 leaves, 3 levels: not broad enough to turn.
    assert rankdir(draw_dot(balanced_sum(4)).source) == "TB"


def test_auto_turns_only_when_the_graph_is_more_than_half_again_as_broad_as_deep() -> None:
    # Six leaves on level 0, three sums on level 1, one sum on each of levels 2 and 3:
    # breadth 6 is 1.5 x depth 4, not more, so it stays top to bottom.
    x = [Value(float(i), f"x{i}") for i in range(7)]
    p, q, r = x[0] + x[1], x[2] + x[3], x[4] + x[5]
    assert rankdir(draw_dot((p + q) + r).source) == "TB"
    # A seventh leaf on level 0 (through tanh on level 1): breadth 7 > 6 turns it.
    assert rankdir(draw_dot((p + q) + (r + x[6].tanh())).source) == "LR"


def test_a_leaf_that_joins_late_sits_beside_the_op_it_meets_and_adds_no_level() -> None:
    # Eight leaves on level 0, sums on levels 1 to 3, and z, added last, on level 3 beside
    # the last sum (Graphviz puts a leaf just above its op): depth 5, and breadth 8 > 7.5
    # turns it. Were z a level of its own, depth 6 would keep it top to bottom.
    assert rankdir(draw_dot(balanced_sum(8) + Value(1.0, "z")).source) == "LR"


def test_a_leaf_used_early_and_late_sits_above_its_first_op() -> None:
    # x0 feeds the first sum (level 1) and the root (level 4): it stays on level 0 with the
    # seven other leaves, so breadth 8 > 1.5 x depth 5 turns the graph left to right.
    tree = balanced_sum(8)
    x0 = next(v for v in topological_order(tree) if v.label == "x0")
    assert rankdir(draw_dot(tree + x0).source) == "LR"


@pytest.mark.parametrize("direction", ["LR", "TB", "RL", "BT"])
def test_a_direction_asked_for_is_kept(direction: str) -> None:
    assert rankdir(draw_dot(balanced_sum(16), rankdir=direction).source) == direction


def test_a_record_is_one_label_in_every_direction() -> None:
    # No braces: Graphviz puts the fields across the ranks, side by side top to bottom
    # (a short box) and stacked left to right (a narrow box).
    a = Value(2.0, "a")
    y = a * 3.0
    for direction in ("TB", "LR"):
        assert 'label="a | data 2 | grad 0"' in draw_dot(y, rankdir=direction).source


def test_minus_zero_is_shown_as_zero() -> None:
    # A positive weight times an input of -0.0 (notebook 3: a negative weight times 0).
    w, x = Value(0.5, "w"), Value(-0.0, "x")
    y = w * x
    y.label = "y"
    y.backward()
    local_w = y.local_grads[0]  # d(w * x)/dw = x
    assert math.copysign(1.0, y.data) == -1.0 and math.copysign(1.0, local_w) == -1.0
    source = draw_dot(y, show_local_grads=True).source
    assert 'label="y | data 0 | grad 1"' in source
    assert 'label="x | data 0 | grad 0.5"' in source
    assert re.search(r'^\tv0 -> v2_op \[label=" 0 "\]$', source, flags=re.MULTILINE), source
    assert not re.search(r"-0\b(?!\.)", source), source


def test_the_legend_is_wrapped_into_short_lines() -> None:
    root, parameters = chain_rule()
    source = draw_dot(root, parameters=parameters, show_order=True, show_local_grads=True).source
    found = re.search(r'^\tfontsize=11 label="(.*)" labelloc=b$', source, flags=re.MULTILINE)
    assert found is not None, source
    lines = found.group(1).split("\\n")
    assert lines[-1] == ""  # each line ends in DOT's line break
    assert len(lines) >= 4
    assert all(len(line) <= 48 for line in lines), lines
    text = " ".join(lines)  # wrapped at spaces: joined, the legend as written
    assert "#n = n-th Value backward() visits" in text
    assert "edge number = local derivative d(op)/d(input)" in text
    # a legend whose first 49 characters end a word: it still breaks before the 49th
    w, x = Value(2.0, "w"), Value(3.0, "x")
    found = re.search(
        r'label="(.*)" labelloc=b$',
        draw_dot(w * x, parameters=[w], show_order=True).source,
        flags=re.MULTILINE,
    )
    assert found is not None
    assert found.group(1).split("\\n") == [
        "green = parameter; blue = input; orange =",
        "output; #n = n-th Value backward() visits",
        "",
    ]


def test_the_legend_says_what_each_kind_of_value_drawn_looks_like() -> None:
    w, x = Value(2.0, "w"), Value(3.0, "x")
    y = (w * x + 1.0).tanh()  # a parameter, an input, a constant, intermediates and the output
    source = draw_dot(y, parameters=[w], rankdir="LR").source
    found = re.search(r'label="(.*)" labelloc=b$', source, flags=re.MULTILINE)
    assert found is not None, source
    legend = " ".join(found.group(1).split("\\n")).strip()
    assert legend == (
        "green = parameter; blue = input; grey dashed = constant; white = intermediate; "
        "orange = output"
    )
    only_leaves = draw_dot(w, parameters=[w]).source  # a kind not drawn is not in the legend
    assert "white = intermediate" not in only_leaves and "blue = input" not in only_leaves
