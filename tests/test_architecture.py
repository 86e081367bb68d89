"""The architecture's one-way rules, checked on the source (ARCHITECTURE.md in the repository)."""

import ast
import re
from pathlib import Path

import pytest

from agentopia_mesa.contract.questions import ContactQuestion, RatingQuestion
from agentopia_mesa.minds.prompts import messages_for
from agentopia_mesa.minds.rule_mind import RuleMind
from agentopia_mesa.model import AgentopiaModel
from agentopia_mesa.stages.asking import prepare

PACKAGE = Path(__file__).resolve().parent.parent / "agentopia_mesa"


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


def test_each_run_file_name_has_one_definition():
    names = ["config.json", "world.json", "metrics.csv", "rewards.csv", "replay.jsonl", "decisions.jsonl", "summary.txt"]
    for name in names:
        places = [p for p in PACKAGE.rglob("*.py") if f'"{name}"' in p.read_text(encoding="utf-8")]
        assert [p.relative_to(PACKAGE).as_posix() for p in places] == ["run/layout.py"], name


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
