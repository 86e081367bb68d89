"""The architecture's one-way rules, checked on the source (ARCHITECTURE.md in the repository)."""

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

from agentopia_mesa.contract.questions import ContactQuestion, RatingQuestion
from agentopia_mesa.minds.prompts import messages_for
from agentopia_mesa.minds.rule_mind import RuleMind
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.asking import prepare

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGE = REPOSITORY / "agentopia_mesa"


def _imports(path: Path) -> set[str]:
    """Modules imported at run time (imports for type checkers only do not count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("package", ["minds", "contract", "environment"])
def test_minds_never_reach_into_the_model(package):
    """A mind answers from its question: no ``something.model.`` in minds or the contract."""
    for path in (PACKAGE / package).glob("*.py"):
        found = re.findall(r"\w+\.model\.\w+", path.read_text(encoding="utf-8"))
        assert not found, f"{path.name} reaches into the model: {found}"


@pytest.mark.parametrize("lower, upper", [
    ("contract", ("agentopia_mesa.minds", "agentopia_mesa.stages", "agentopia_mesa.model", "agentopia_mesa.run")),
    ("town", ("agentopia_mesa.minds", "agentopia_mesa.stages", "agentopia_mesa.run", "agentopia_mesa.llm")),
    ("stages", ("agentopia_mesa.run", "agentopia_mesa.cli", "agentopia_mesa.llm")),
    ("llm", ("agentopia_mesa.minds", "agentopia_mesa.stages", "agentopia_mesa.model", "agentopia_mesa.run")),
    # the environment and the minds are peers: neither imports the other, nor anything above them
    ("environment", ("agentopia_mesa.minds", "agentopia_mesa.stages", "agentopia_mesa.model", "agentopia_mesa.run")),
    ("minds", ("agentopia_mesa.environment", "agentopia_mesa.stages", "agentopia_mesa.model", "agentopia_mesa.run")),
    ("run", ("agentopia_mesa.cli", "visualization")),
])
def test_nothing_below_imports_what_is_above(lower, upper):
    for path in (PACKAGE / lower).glob("*.py"):
        bad = [m for m in _imports(path) if m.startswith(upper)]
        assert not bad, f"{lower}/{path.name} imports {bad}"


def test_a_prepared_question_answers_without_the_model_and_an_unprepared_one_says_so():
    model = AgentopiaModel(world="school", residents=6, years=1, seed=0)
    r, others = model.residents[0], [o.name for o in model.residents[1:]]
    question = ContactQuestion(r, known=others, places=model.social_places, place_names=model.place_names,
                               free_days={0: [1, 2]})
    with pytest.raises(ValueError, match="was not prepared"):
        messages_for(question)
    system, _ = messages_for(prepare(model, question))
    assert "Y2020-W01-now" in system["content"]
    rating = prepare(model, RatingQuestion(r, people=others[:2]))
    with pytest.raises(KeyError):  # ratings need what anyone can see of the rated: the stage gives it
        RuleMind(model.random).decide(rating)


# -- the import graph: every import, at module level, inside functions and for type checkers alike ---

def _module_name(path: Path) -> str:
    parts = path.relative_to(REPOSITORY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> nx.DiGraph:
    """Modules of ``agentopia_mesa`` as nodes, an edge from each to every one it imports anywhere
    (an import for type checkers names what a module knows as much as one that runs)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def _package(module: str) -> str:
    """``agentopia_mesa.town.resident`` -> "town"; a top-level module is its own package."""
    return module.split(".")[1] if module.count(".") else module


#: The layers under the model, bottom first (ARCHITECTURE.md): a package imports packages of lower
#: layers only, never a peer of its own layer (the minds and the environment know nothing of each other).
LAYERS = (
    ("config", "trimming", "bounds"),
    ("world", "calendar", "reward", "llm"),
    ("town",),
    ("contract", "metrics"),
    ("minds", "environment"),
    ("stages",),
    ("model",),
)
_LAYER = {package: depth for depth, layer in enumerate(LAYERS) for package in layer}


def test_the_layers_under_the_model_import_downwards_only():
    graph = _import_graph()
    upward = sorted(f"{a} -> {b}" for a, b in graph.edges
                    if _package(a) in _LAYER and _package(a) != _package(b)
                    and _LAYER.get(_package(b), len(LAYERS)) >= _LAYER[_package(a)])
    assert not upward, "imports against the layer order (ARCHITECTURE.md):\n" + "\n".join(upward)


def test_no_import_circle_spans_two_packages():
    graph = _import_graph()
    circles = [c for c in nx.simple_cycles(graph, length_bound=8) if len({_package(m) for m in c}) > 1]
    assert not circles, f"import circles across packages: {[' -> '.join(c + c[:1]) for c in circles]}"


def _layout_file_names() -> dict[str, str]:
    """Every file name ``run/layout.py`` defines (constants such as ``CONFIG = "config.json"``)."""
    tree = ast.parse((PACKAGE / "run" / "layout.py").read_text(encoding="utf-8"))
    return {node.value.value: node.targets[0].id for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str) and "." in node.value.value}


def test_run_directory_file_names_are_spelled_in_run_layout_only():
    """Code names a run's files through ``run.layout`` (its constants or ``RunLayout``), never by
    spelling them again: the library, the viewer, the experiments and the benchmarks."""
    names = _layout_file_names()
    assert {"config.json", "replay.jsonl", "decisions.jsonl", "summary.txt", "sweep.json"} <= set(names)
    spelled = []
    for folder in ("agentopia_mesa", "visualization", "experiments", "benchmarks", "models"):
        for path in sorted((REPOSITORY / folder).rglob("*.py")):
            if path == PACKAGE / "run" / "layout.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in names:
                    spelled.append(f"{path.relative_to(REPOSITORY)}:{node.lineno} {node.value!r} "
                                   f"(run.layout.{names[node.value]})")
    assert not spelled, "run-directory file names spelled outside run/layout.py:\n" + "\n".join(spelled)


#: The LLM wiring: which client, cache and dispatcher serve which spec, from a run's LLM settings.
WIRING = {"LLMSettings", "MixEntry", "parse_mix", "check_llm_options", "client_for", "dispatcher_for",
          "resolved_concurrency"}


def test_the_llm_wiring_has_one_home_below_minds_environment_and_evaluation():
    """The wiring is defined in ``llm/`` only and imported from there by everyone; minds, the
    environment and the evaluation make no client by hand (``llm.factory``) but through it."""
    graph = _import_graph()
    defined, imported_from = {}, set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in WIRING:
                defined[node.name] = _module_name(path)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and any(a.name in WIRING for a in node.names):
                imported_from.add(node.module)
    assert set(defined) == WIRING and {_package(m) for m in defined.values()} == {"llm"}, defined
    assert {_package(m) for m in imported_from} == {"llm"}, sorted(imported_from)
    by_hand = sorted(f"{a} -> {b}" for a, b in graph.edges
                     if _package(a) in ("minds", "environment", "evaluation") and b == "agentopia_mesa.llm.factory")
    assert not by_hand, f"clients made by hand instead of through the LLM wiring: {by_hand}"
