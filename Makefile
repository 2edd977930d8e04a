# Release checks (CI runs scripts/test.sh). See docs/shutdown-correctness.md.
#   make stress     every shutdown scenario 10,000 times in a release build (scripts/stress.sh)
#   make sanitize   a time-boxed part of the shutdown suite under ThreadSanitizer, then under
#                   AddressSanitizer + LeakSanitizer; any report fails the run

STRESS_ITERATIONS ?= 10000
SANITIZE_ITERATIONS ?= 30
SANITIZE_FILTER ?= ShutdownSuiteTests

.PHONY: stress sanitize sanitize-thread sanitize-address

stress:
	bash scripts/stress.sh $(STRESS_ITERATIONS)

sanitize: sanitize-thread sanitize-address

# TSan exits non-zero (66) at the end of a run with any report; halt_on_error stops at the first.
sanitize-thread:
	swift build --scratch-path .build-tsan --sanitize=thread --build-tests
	TSAN_OPTIONS=halt_on_error=1 SHUTDOWN_SUITE_ITERATIONS=$(SANITIZE_ITERATIONS) \
		swift test --scratch-path .build-tsan --sanitize=thread --skip-build --filter $(SANITIZE_FILTER)

# ASan with LeakSanitizer: leaked buffers, sockets (libzmq allocations) and thread stacks are reported at exit.
sanitize-address:
	swift build --scratch-path .build-asan --sanitize=address --build-tests
	ASAN_OPTIONS=detect_leaks=1 SHUTDOWN_SUITE_ITERATIONS=$(SANITIZE_ITERATIONS) \
		swift test --scratch-path .build-asan --sanitize=address --skip-build --filter $(SANITIZE_FILTER)
