# Release checks (CI runs scripts/test.sh). See docs/shutdown-correctness.md.
#   make stress     every bus shutdown scenario 10,000 times, every bridge scenario 1,000 times, in a
#                   release build, then vbus bridge through 10 broker restarts per case, 10 runs,
#                   under CPU load (scripts/stress.sh)
#   make sanitize   a time-boxed part of the shutdown suite, and one publisher shared by 16 threads
#                   and tasks, under ThreadSanitizer, then under AddressSanitizer + LeakSanitizer;
#                   any report fails the run
#   make fuzz       the MQTT decoder fed 20,000,000 random and mutated inputs (CI runs 3,000,000)

STRESS_ITERATIONS ?= 10000
STRESS_BRIDGE_ITERATIONS ?= 1000
SANITIZE_ITERATIONS ?= 30
# One test run per suite, one after the other: the shared-publisher test's 16 busy senders would
# otherwise load the machine while the shutdown suite measures its deadlines.
SANITIZE_SUITES ?= ShutdownSuiteTests SharedPublisherTests
# Sanitized code runs several times slower: shutdowns and the bridge's drain may end this much later
# than their bounds (the default, 500 ms, is for plain builds). Hangs are still hangs.
SANITIZE_LATENESS_MS ?= 2000
FUZZ_SEEDS ?= 20

.PHONY: stress sanitize sanitize-thread sanitize-address fuzz format lint

# The layout is swift-format's (.swift-format: 4 spaces, 120 columns; layout only, no rewriting
# rules). `make format` rewrites in place; `make lint` (run by scripts/test.sh) fails on any drift.
# String literals longer than a line are left as they are: the formatter does not split them.
SWIFT_SOURCES = Sources Tests Benchmarks Examples Package.swift
format:
	swift format --in-place --recursive --parallel $(SWIFT_SOURCES)
lint:
	swift format lint --strict --recursive --parallel $(SWIFT_SOURCES)

stress:
	BRIDGE_ITERATIONS=$(STRESS_BRIDGE_ITERATIONS) bash scripts/stress.sh $(STRESS_ITERATIONS)

sanitize: sanitize-thread sanitize-address

# 500,000 inputs per seed and test: FUZZ_SEEDS=20 is 20,000,000 inputs.
fuzz:
	MQTT_FUZZ_SEEDS=$(FUZZ_SEEDS) swift test --filter DecoderFuzzTests

# TSan exits non-zero (66) at the end of a run with any report; halt_on_error stops at the first.
# Known false positives, suppressed by top frame: on Linux `Synchronization.Mutex` hands a contended
# lock over through a PI futex in the kernel, which TSan cannot see, so accesses inside a contended
# `withLock` are reported (10-line repro in docs/shutdown-correctness.md; NSLock is clean).
#   zYu*XEfU                  a `withLock { (inout sending State) in ... }` body (mangled closure signature)
#   SubscriptionBufferStateV  the value-type state machine, only ever mutated inside SubscriptionStorage's lock
#   ZMQSocketV5close          only called inside PublisherSocket's and the run-loop commander's locks
#   0B8RegistryV              BusRegistry, the value-type state machine behind the bus's registry lock
#   PublisherSocketC5State    a publisher's socket state (its last topic), only used inside its lock
# Remove these once the bus uses a lock TSan can see.
# These match only `Mutex` bodies of the bus modules: the MQTT client and the bridge use `Locked`
# (a pthread mutex TSan sees), so the bridge scenarios run here unsuppressed in their own code.
TSAN_SUPPRESSIONS = .build-tsan/mutex-false-positives.supp
sanitize-thread:
	swift build --scratch-path .build-tsan --sanitize=thread --build-tests
	printf '%s\n' 'race_top:zYu*XEfU' 'race_top:SubscriptionBufferStateV' 'race_top:ZMQSocketV5close' 'race_top:0B8RegistryV' \
		'race_top:PublisherSocketC5State' > $(TSAN_SUPPRESSIONS)
	for suite in $(SANITIZE_SUITES); do \
		TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/$(TSAN_SUPPRESSIONS)" SHUTDOWN_SUITE_ITERATIONS=$(SANITIZE_ITERATIONS) \
		SHUTDOWN_SUITE_LATENESS_MS=$(SANITIZE_LATENESS_MS) \
		swift test --scratch-path .build-tsan --sanitize=thread --skip-build --filter "$$suite" || exit 1; \
	done

# ASan with LeakSanitizer: leaked buffers, sockets (libzmq allocations) and thread stacks are reported
# at exit. Suppressed, none of it ours and none of it growing with iterations:
#   libXCTest.so                  XCTest's own run objects (the test runner; 144 bytes per run)
#   ThreadSpecificVariableC3set   NIO's per-thread values of its singleton event-loop threads (the
#   setupThreadAnd(EventLoop)     MQTT clients' NIO-SGLTN-*), which live as long as the process: seen
#   GetaddrinfoResolverC12offload in some runs only, always the same 5 allocations (253 bytes)
# Nothing of libzmq is suppressed: the one libzmq leak seen (a monitor event whose send fails, 4.3.4)
# is avoided by PeerMonitor's close order. fast_unwind_on_malloc=0 gives full stacks through libzmq
# (built without frame pointers), so a report shows where an allocation came from.
LSAN_SUPPRESSIONS = .build-asan/lsan-not-ours.supp
sanitize-address:
	swift build --scratch-path .build-asan --sanitize=address --build-tests
	printf '%s\n' 'leak:libXCTest.so' 'leak:NIOPosix22ThreadSpecificVariableC3set' \
		'leak:NIOPosix27MultiThreadedEventLoopGroupC014setupThreadAnd' \
		'leak:NIOPosix19GetaddrinfoResolverC12offloadQueue' > $(LSAN_SUPPRESSIONS)
	for suite in $(SANITIZE_SUITES); do \
		ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 LSAN_OPTIONS="suppressions=$(CURDIR)/$(LSAN_SUPPRESSIONS)" \
		SHUTDOWN_SUITE_ITERATIONS=$(SANITIZE_ITERATIONS) SHUTDOWN_SUITE_LATENESS_MS=$(SANITIZE_LATENESS_MS) \
		swift test --scratch-path .build-asan --sanitize=address --skip-build --filter "$$suite" || exit 1; \
	done
