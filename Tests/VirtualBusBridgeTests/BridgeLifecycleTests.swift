import Testing
@testable import VirtualBusBridge

/// The bridge's phases as a value type, with no I/O: what each stop, start and session end
/// leads to, including the races between them.
@Suite("Bridge lifecycle: idle -> starting -> relaying -> draining -> stopped")
struct BridgeLifecycleTests {
    @Test("a normal life: relay, then a stop drains once, and later stops do nothing")
    func normalLife() {
        var lifecycle = BridgeLifecycle()
        lifecycle.runStarted()
        #expect(lifecycle.phase == .starting && !lifecycle.isRelaying)
        #expect(lifecycle.started() == .relay)
        #expect(lifecycle.isRelaying)
        #expect(lifecycle.stop() == .drain)
        #expect(lifecycle.phase == .draining && !lifecycle.isRelaying)
        #expect(lifecycle.stop() == .none)
        #expect(lifecycle.sessionEnded() == .none)
        lifecycle.drained()
        #expect(lifecycle.phase == .stopped)
    }

    @Test("a stop during the start ends the session once; the start then stops instead of relaying")
    func stopWhileStarting() {
        var lifecycle = BridgeLifecycle()
        lifecycle.runStarted()
        #expect(lifecycle.stop() == .endSession)
        #expect(lifecycle.stop() == .none, "the session is ended once")
        #expect(lifecycle.started() == .stop)
        #expect(lifecycle.phase == .stopped)
    }

    @Test("a start that fails after a stop was asked for is a normal end; one that fails on its own throws")
    func failedStarts() {
        var stopped = BridgeLifecycle()
        stopped.runStarted()
        _ = stopped.stop()
        #expect(stopped.startFailed() == true)
        var failed = BridgeLifecycle()
        failed.runStarted()
        #expect(failed.sessionEnded() == .none, "the session ending during the start is the start's error, not a stop")
        #expect(failed.startFailed() == false)
        #expect(failed.phase == .stopped)
    }

    @Test("the session ending while relaying drains like a stop, and a later stop does nothing")
    func sessionEndsWhileRelaying() {
        var lifecycle = BridgeLifecycle()
        lifecycle.runStarted()
        _ = lifecycle.started()
        #expect(lifecycle.sessionEnded() == .drain)
        #expect(lifecycle.stop() == .none)
    }
}
