import pytest

from agentopia_mesa.model import AgentopiaModel


@pytest.fixture(scope="session")
def small_model_two_years():
    """30 residents of the apartment world after two simulated years (shared, do not mutate)."""
    model = AgentopiaModel(world="apartment", residents=30, years=2, seed=7)
    model.run()
    return model
