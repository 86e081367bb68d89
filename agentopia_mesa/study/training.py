"""The training step's three backends; each returns the tuned model's spec for generation 1.

- ``agentopia``: the built-in trainer (``training.pipeline.train``, through ``tune`` alone, so a
  trainer with another signature plugs in at one place); the spec is ``embedded:OUT/model.gguf``;
- ``command``: a command template (``llamafactory-cli ...``, ``trl sft ...``) with ``{data}``,
  ``{out}`` (and ``{dpo}``, the preference pairs with ``selection.dpo``, and ``{python}``) filled in; the study runs it, keeps its output in
  ``OUT/command.log`` and takes the spec from ``training.model``;
- ``external``: the study stops here and prints what to run; once the study file names the tuned
  model (``training.model``) it goes on.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from agentopia_mesa.study.spec import StudyError, Training

COMMAND_LOG = "command.log"
SFT_FILE = "sft.jsonl"  # the data step's files, in data/
DPO_FILE = "dpo.jsonl"


class WaitingForModel(Exception):
    """The external backend's stop: what to run, then which key to set."""


def tune(data: Path, out_dir: Path, settings: dict, base: str | None) -> str:
    """Fine-tune with the built-in trainer; return the tuned model's spec. The one call of
    ``training.pipeline.train``: a Hugging Face trainer with another signature changes only this."""
    from agentopia_mesa.training.base import TrainingUnavailable
    from agentopia_mesa.training.hf_base import is_hf_directory
    from agentopia_mesa.training.lora import GPU_8B, LoraSettings
    from agentopia_mesa.training.pipeline import MODEL_FILE, TrainJob, train

    base_path = Path(base) if base else None
    folder = is_hf_directory(base_path)  # a Hugging Face base: merged, and a GGUF where its family allows
    given = {("r" if k == "lora_r" else k): v for k, v in settings.items()}
    # the defaults of `agentopia train`: an 8B model's on a GPU for a folder, the laptop's (20 steps here) for a GGUF
    lora = replace(GPU_8B, **given) if folder else LoraSettings(**{"steps": 20, **given})
    try:
        train(TrainJob(out_dir=out_dir, data=data, base=base_path, settings=lora, merge=folder))
    except TrainingUnavailable as exc:
        raise StudyError(f"training: {str(exc).splitlines()[0]}") from None
    except (ValueError, FileNotFoundError) as exc:
        raise StudyError(f"training: {str(exc).splitlines()[0]}") from None
    if not (out_dir / MODEL_FILE).is_file():  # a family with no GGUF writer: it must be served
        raise StudyError(f"training: {out_dir.resolve()} holds an adapter and a merged model but no GGUF the embedded "
                         "backend can run; serve it (its card.md says how) and name it with backend = \"external\", "
                         "model = SPEC")
    return f"embedded:{out_dir.resolve() / MODEL_FILE}"


def filled(template: str, data: Path, out_dir: Path) -> str:
    return template.format(data=shlex.quote(str(data.resolve())), out=shlex.quote(str(out_dir.resolve())),
                           dpo=shlex.quote(str(data.with_name(DPO_FILE).resolve())), python=shlex.quote(sys.executable))


def run_command(training: Training, data: Path, out_dir: Path) -> str:
    """Run the command template; its output goes to ``out_dir/command.log``. Returns the spec."""
    out_dir.mkdir(parents=True, exist_ok=True)
    line = filled(training.command, data, out_dir)
    log = out_dir / COMMAND_LOG
    with open(log, "w", encoding="utf-8") as f:
        f.write(f"$ {line}\n")
        f.flush()
        try:
            code = subprocess.run(shlex.split(line), stdout=f, stderr=subprocess.STDOUT).returncode
        except OSError as exc:
            raise StudyError(f"training.command: cannot run it ({exc.strerror}: {shlex.split(line)[0]})") from None
    if code != 0:
        raise StudyError(f"training.command: exited with {code}; its output is in {log}; fix it and run the study again")
    return tuned_spec(training.model, out_dir)


def tuned_spec(template: str, out_dir: Path) -> str:
    return template.replace("{out}", str(out_dir.resolve()))


def external(training: Training, data: Path, out_dir: Path, study_file: str) -> str:
    """The tuned model's spec once the study file names it; until then ``WaitingForModel``."""
    if training.model is not None:
        return tuned_spec(training.model, out_dir)
    raise WaitingForModel(
        f"training: the study waits for a model tuned on {data.resolve()} (an `agentopia dataset sft` file, chat layout), e.g.\n"
        f"  llamafactory-cli train ... dataset={data.resolve()} output_dir={out_dir.resolve()}\n"
        f"  agentopia train {data.resolve()} --steps 200 --out {out_dir.resolve()}\n"
        f"then serve it and name it in {study_file}: [training] model = \"ollama:agentopia-ft\" (or embedded:{{out}}/model.gguf), "
        f"and run the study again")


def train_step(training: Training, data: Path, out_dir: Path, study_file: str) -> str:
    """Run the training step's backend; return the tuned model's spec."""
    if training.backend == "agentopia":
        return tune(data, out_dir, training.settings, training.base)
    if training.backend == "command":
        return run_command(training, data, out_dir)
    return external(training, data, out_dir, study_file)
