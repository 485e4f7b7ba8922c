#!/usr/bin/env bash
# Run the stress scenarios against GNU `tail -F` (and rtail) and print, for each follower,
# lines written / printed / lost / duplicated / out of order, and for the Python writers how many
# of the rotated files were never printed or printed only in part.
#
# The scenarios, writers and counting are the test suite's own (tests/it/stress.rs): this runs its
# ignored test `compare_with_gnu_tail`, which asserts nothing, and gives up on a follower once it
# has printed nothing more for a few seconds (GNU tail is expected to lose lines).
#
# usage: tests/stress/compare_gnu.sh [--release] [FOLLOWERS]
#   --release   build and measure rtail's release binary (the tests use the debug one)
#   FOLLOWERS   comma-separated: gnu, gnu-poll (GNU's ---disable-inotify mode), rtail, or the path
#               of any program taking `-F -n +1 FILE`; default: gnu,rtail
#   RTAIL_COMPARE_SCENARIOS=rename-storm,rotating-1proc,rotating-4proc,clh-gzip-6proc picks scenarios.
#   RTAIL_STRESS_SEED=N repeats the rename storm's random choices.
#
# The first run creates the Python venv under target/ and needs PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=()
if [[ "${1:-}" == --release ]]; then
    profile=(--release)
    shift
fi
export RTAIL_COMPARE_TOOLS="${1:-${RTAIL_COMPARE_TOOLS:-gnu,rtail}}"
exec cargo test "${profile[@]}" --test it -- --ignored --nocapture --exact stress::compare_with_gnu_tail
