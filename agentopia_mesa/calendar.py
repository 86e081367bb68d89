"""Simulated time: years of weeks of days, and the paper's time stamps (``Y2020-W03-activity-D2``)."""

from __future__ import annotations

from dataclasses import dataclass

from agentopia_mesa.config import CalendarConfig


@dataclass
class Calendar:
    """Where the simulation is. ``week_index`` counts weeks from the start (0 = first week)."""

    config: CalendarConfig
    week_index: int = 0

    @property
    def year(self) -> int:
        return self.config.start_year + self.week_index // self.config.weeks_per_year

    @property
    def year_index(self) -> int:
        """0 for the first simulated year."""
        return self.week_index // self.config.weeks_per_year

    @property
    def week(self) -> int:
        """Week of the year, 1-based."""
        return self.week_index % self.config.weeks_per_year + 1

    @property
    def is_year_end(self) -> bool:
        return self.week == self.config.weeks_per_year

    @property
    def days(self) -> range:
        return range(1, self.config.days_per_week + 1)

    def day_index(self, day: int, weeks_ahead: int = 0) -> int:
        """Absolute index of a day (1-based within its week), for schedules spanning weeks."""
        return (self.week_index + weeks_ahead) * self.config.days_per_week + day - 1

    def describe_day(self, day_index: int) -> str:
        week_index, day0 = divmod(day_index, self.config.days_per_week)
        year = self.config.start_year + week_index // self.config.weeks_per_year
        week = week_index % self.config.weeks_per_year + 1
        return f"Y{year}-W{week:02d}-D{day0 + 1}"

    def stamp(self, stage: str, day: int | None = None) -> str:
        suffix = f"-D{day}" if day is not None else ""
        return f"Y{self.year}-W{self.week:02d}-{stage}{suffix}"
