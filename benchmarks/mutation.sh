#!/usr/bin/env bash
# Mutation testing of one core module with mutmut 3 (results and survivors: benchmarks/mutation.md).
#
#   benchmarks/mutation.sh MODULE     MODULE: reward | scheduling | economy | checkpoints | dispatcher | cache
#
# The working tree (tracked and untracked, not ignored, files) is copied to $WORK/MODULE
# (default /tmp/agentopia-mutation/MODULE), a [mutmut] section is written to setup.cfg there, and
# `mutmut run --max-children 1` mutates only MODULE's file and runs only MODULE's test files
# (mutmut then runs, for each mutant, only the tests that call the mutated function). Nothing is
# written to the repository: mutmut's mutants/ folder lives in the copy.
#
# mutmut is not a project dependency: install it in a venv of its own, with the project's test
# extra, and point MUTMUT at it, e.g.
#   python3.12 -m venv /tmp/mutvenv && /tmp/mutvenv/bin/pip install mutmut==3.8.1 -e '.[test]'
#   MUTMUT=/tmp/mutvenv/bin/mutmut benchmarks/mutation.sh reward
# Runs under `nice -n 19` with one worker, so it can share a small machine.
set -euo pipefail

module=${1:?usage: benchmarks/mutation.sh reward|scheduling|economy|checkpoints|dispatcher|cache}
MUTMUT=${MUTMUT:-mutmut}
WORK=${WORK:-/tmp/agentopia-mutation}
extra=""
case $module in
    reward) file=agentopia_mesa/reward.py; tests="tests/test_reward.py";;
    scheduling) file=agentopia_mesa/town/scheduling.py; tests="tests/test_scheduling.py";;
    economy) file=agentopia_mesa/town/economy.py; tests="tests/test_economy.py";;
    # The kill -9 tests (marked slow) run the CLI in child processes, which never load a mutant.
    checkpoints) file=agentopia_mesa/run/checkpoints.py
        tests="tests/test_checkpoints.py
    tests/test_hardening.py::test_a_crafted_checkpoint_is_refused_and_runs_nothing
    tests/test_hardening.py::test_checkpoints_of_another_key_are_refused_and_our_own_resume
    tests/test_hardening.py::test_resume_refuses_when_a_file_is_missing_or_shorter_than_the_checkpoint"
        extra="
    -m
    not slow";;
    # The dispatcher's own tests, plus its unit tests kept with the circuit breaker and progress.
    dispatcher) file=agentopia_mesa/llm/dispatcher.py
        tests="tests/test_llm_dispatcher.py
    tests/test_faults.py::test_the_circuit_breaker_opens_on_failures_in_a_row_and_closes_on_an_answer
    tests/test_faults.py::test_the_circuit_breaker_pauses_30_s_after_8_failures_by_default
    tests/test_progress.py::test_the_dispatcher_reports_stage_calls_done_pending_and_tokens_per_second";;
    cache) file=agentopia_mesa/llm/cache.py; tests="tests/test_llm_cache.py";;
    *) echo "unknown module: $module" >&2; exit 2;;
esac

root=$(git rev-parse --show-toplevel)
dest=$WORK/$module
rm -rf "$dest"
mkdir -p "$dest"
git -C "$root" ls-files -z --cached --others --exclude-standard | tar -C "$root" --null -T - -cf - | tar -C "$dest" -xf -
cat > "$dest/setup.cfg" <<EOF
[mutmut]
source_paths = agentopia_mesa
only_mutate = $file
pytest_add_cli_args_test_selection =
    $tests
pytest_add_cli_args =
    -p
    no:cacheprovider$extra
EOF

cd "$dest"
start=$(date +%s)
nice -n 19 "$MUTMUT" run --max-children 1 > run.log 2>&1 || { tail -40 run.log; exit 1; }
end=$(date +%s)
"$MUTMUT" export-cicd-stats > /dev/null
"$MUTMUT" results --all true > results.txt
echo "$module: $file, $((end - start)) s"
cat mutants/mutmut-cicd-stats.json
# every survivor with its diff, for benchmarks/mutation.md
grep -v ': killed$' results.txt | sed 's/^ *//; s/: .*//' | while read -r name; do "$MUTMUT" show "$name"; echo; done > survivors.txt
grep -v ': killed$' results.txt || true
