import pytest

from agentopia_mesa.model import AgentopiaModel


@pytest.fixture(scope="session")
def small_model_two_years():
    """30 residents of the apartment world after two simulated years (shared, do not mutate)."""
    model = AgentopiaModel(world="apartment", residents=30, years=2, seed=7)
    model.run()
    return model


@pytest.fixture(scope="session", autouse=True)
def checkpoint_key(tmp_path_factory):
    """Checkpoints are authenticated with a per-user key; tests (and the processes they start) use
    a key of their own instead of the user's ~/.config/agentopia/checkpoint.key."""
    import os

    key = tmp_path_factory.mktemp("agentopia-key") / "checkpoint.key"
    previous = os.environ.get("AGENTOPIA_SECRET_FILE")
    os.environ["AGENTOPIA_SECRET_FILE"] = str(key)
    yield key
    if previous is None:
        os.environ.pop("AGENTOPIA_SECRET_FILE", None)
    else:
        os.environ["AGENTOPIA_SECRET_FILE"] = previous
