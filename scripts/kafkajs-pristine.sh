#!/usr/bin/env bash
# Shows that the tests pinning patches/kafkajs+2.2.4.patch fail on a pristine kafkajs 2.2.4:
# reverts the patch in node_modules, runs the pinning tests (docs/kafkajs-patch.md lists them;
# failures are the expected outcome), then applies the patch again, whatever happened.
# Needs a running stack, like any integration test: KAFKA_BROKERS and SCHEMA_REGISTRY_URL, or the
# private one the test setup starts. Extra arguments go to jest (e.g. -t static).
set -uo pipefail
cd "$(dirname "$0")/.."

PINNING_TESTS=(
  packages/core/test/integration/kafkajs-patch.test.ts
  packages/core/test/integration/kafkajs-transactions.test.ts
)

reapply() {
  echo "==> re-applying patches/kafkajs+2.2.4.patch"
  npx patch-package --error-on-fail >/dev/null || {
    echo "patch-package could not re-apply the patch: run 'npx patch-package' before anything else" >&2
    exit 1
  }
}
trap reapply EXIT

echo "==> reverting patches/kafkajs+2.2.4.patch (node_modules/kafkajs is pristine 2.2.4 until the end)"
npx patch-package --reverse --error-on-fail >/dev/null || exit 1
echo "==> the pinning tests on pristine kafkajs (expected: failures)"
# --runTestsByPath ends --selectProjects's list (it takes every word up to the next option).
npx jest --selectProjects integration --runTestsByPath "${PINNING_TESTS[@]}" "$@"
echo "==> jest exited $? on pristine kafkajs (non-zero expected)"
