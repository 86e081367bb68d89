"""``agentopia study run``: the paper's loop as steps, each skipped when finished with the same inputs.

    generation0 -> ablation.NAME ... -> data -> training -> generation1 -> compare -> evaluation -> report

Each step's inputs digest is the study settings it reads plus the digests of the steps it reads
from, so changing one setting redoes only what depends on it (and a town's own id, in its sweep,
keeps even those towns that did not change).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from agentopia_mesa.run.layout import LLM_CACHE, RunLayout
from agentopia_mesa.study import steps
from agentopia_mesa.study.spec import StudySpec
from agentopia_mesa.study.training import DPO_FILE, SFT_FILE
from agentopia_mesa.study.towns import merged, run_generation

DIFFERENCE_FILE = "difference.csv"


@dataclass
class Study:
    spec: StudySpec
    dir: Path
    file: str = "STUDY.toml"
    progress: bool = True

    # -- inputs of each step -----------------------------------------------------------------------
    def inputs(self) -> dict[str, str | None]:
        """Every step's inputs digest; None for a step whose inputs are not known yet (after training)."""
        s = self.spec
        d = {"generation0": s.digest("towns", s.generation0, s.society, s.role, s.environment)}
        for name, over in s.ablations.items():
            d[f"ablation.{name}"] = s.digest("towns", s.generation0, merged(s.society, over), s.role, s.environment)
        d["data"] = s.digest(d["generation0"], s.selection)
        d["training"] = s.digest(d["data"], s.training)
        trained = steps.finished(self.dir, "training", d["training"])
        model = trained["outputs"]["model"] if trained else None
        d["generation1"] = s.digest(d["generation0"], model, s.tuned_share) if model else None
        d["compare"] = s.digest(d["generation1"]) if model else None
        if s.evaluation is not None:
            d["evaluation"] = s.digest(model, s.role, s.evaluation, s.generation0.worlds[0]) if model else None
        return d

    def status(self) -> dict[str, str]:
        return {step: ("waiting" if digest is None else steps.state(self.dir, step, digest))
                for step, digest in self.inputs().items()}

    def progress_note(self, step: str, state: str) -> str:
        """A finished step's wall time, or an unfinished generation's finished towns."""
        if state == "done":
            return f"{self.outputs(step).get('seconds', 0):,.0f} s"
        towns = self.dir / step / "runs"
        if towns.is_dir():
            done = sum(1 for _ in towns.glob("*/done.json"))
            return f"{done} of {self.spec.towns_per_generation} towns finished"
        return ""

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> None:
        """Run every unfinished step in order; ``training.WaitingForModel`` stops at an external step."""
        self.dir.mkdir(parents=True, exist_ok=True)
        s = self.spec
        self._towns("generation0", s.society)
        for name, over in s.ablations.items():
            self._towns(f"ablation.{name}", merged(s.society, over))
        self._step("data", self._data)
        model = self._step("training", self._training)["model"]
        self._towns("generation1", s.society, tuned=model)
        self._step("compare", lambda out: self._compare(out, model))
        if s.evaluation is not None:
            self._step("evaluation", lambda out: self._evaluation(out, model))
        from agentopia_mesa.study.report import write_report

        write_report(self)

    def _step(self, step: str, make) -> dict:
        digest = self.inputs()[step]
        done = steps.finished(self.dir, step, digest)
        if done:
            return done["outputs"]
        self._say(f"{step}: running")
        start = time.perf_counter()
        outputs = make(self.dir / step)
        outputs["seconds"] = round(time.perf_counter() - start, 1)
        steps.record(self.dir, step, digest, outputs)
        return outputs

    def _towns(self, step: str, society: dict, tuned: str | None = None) -> dict:
        def make(out: Path) -> dict:
            towns = run_generation(self.spec, step, self.dir, society, tuned, self.progress)
            return {"towns": towns, "spent": spent([self.dir / t["dir"] for t in towns])}
        return self._step(step, make)

    def outputs(self, step: str) -> dict:
        """The recorded outputs of a finished step."""
        return json.loads(steps.record_path(self.dir, step).read_text(encoding="utf-8"))["outputs"]

    def town_dirs(self, step: str) -> list[Path]:
        return [self.dir / t["dir"] for t in self.outputs(step)["towns"]]

    def _data(self, out: Path) -> dict:
        from agentopia_mesa.datasets.sft import export_sft

        sel = self.spec.selection
        runs = self.town_dirs("generation0")
        stats = export_sft(runs, out / SFT_FILE, fraction=sel.top_fraction, env_mix=sel.env_mix)
        outputs = {"sft": f"data/{SFT_FILE}", "samples": stats.samples}
        if sel.dpo:
            from agentopia_mesa.datasets.dpo import export_dpo

            export_dpo(runs[0], out / DPO_FILE, cache=self.dir / LLM_CACHE, llm=self.spec.role)
            outputs["dpo"] = f"data/{DPO_FILE}"
        return outputs

    def _training(self, out: Path) -> dict:
        from agentopia_mesa.study.training import train_step

        return {"model": train_step(self.spec.training, self.dir / "data" / SFT_FILE, out, self.file)}

    def _compare(self, out: Path, model: str) -> dict:
        from agentopia_mesa.analysis.compare import write_comparison

        runs = self.town_dirs("generation1")
        result, _ = write_comparison(runs, out, pair=(model, self.spec.role), rewards=rewards_by_spec(runs))
        result.difference.to_csv(out / DIFFERENCE_FILE, index=False)
        return {"table": "compare/compare.md", "difference": f"compare/{DIFFERENCE_FILE}"}

    def _evaluation(self, out: Path, model: str) -> dict:
        from agentopia_mesa.evaluation.roleplay import RoleplaySettings, evaluate_roleplay

        e, s = self.spec.evaluation, self.spec
        settings = RoleplaySettings(models=(model, s.role), judge=e.judge, env=s.environment, world=s.generation0.worlds[0],
                                    coser=str(Path(s.base_dir) / e.coser) if e.coser else None, scenes=e.scenes, rounds=e.rounds, cache=str(self.dir / LLM_CACHE))
        evaluate_roleplay(settings, out)
        return {"summary": "evaluation/summary.md"}

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"study {self.spec.name}: {text}", flush=True)


def rewards_by_spec(run_dirs: list[Path]):
    """Every resident-year of the towns, its ``model`` the spec the resident was given (config.json's
    minds), so the tuned and base models are told apart by the study's own names."""
    import pandas as pd

    from agentopia_mesa.datasets.sources import open_run

    frames = []
    for run in run_dirs:
        source = open_run(run)
        rewards, minds = source.rewards, source.meta["minds"]
        frames.append(rewards.assign(run=run.name, model=rewards["name"].map(minds)))
    return pd.concat(frames, ignore_index=True)


def spent(run_dirs: list[Path]) -> dict[str, int]:
    """LLM calls and tokens the towns' decisions record (residents and environment)."""
    total = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    for run in run_dirs:
        path = RunLayout(run).decisions
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                entry = json.loads(line)
                total["calls"] += 1
                total["prompt_tokens"] += int(entry.get("prompt_tokens") or 0)
                total["completion_tokens"] += int(entry.get("completion_tokens") or 0)
    return total
