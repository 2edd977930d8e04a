import ConcurrencyPrimitives
import Logging
import ZeroMQ

/// The ordered shutdown, run synchronously on a thread the bus owns (or in `deinit`).
///
/// Order: cancel consumers -> stop run loops (each closes its socket) -> close publishers -> stop the
/// proxy -> terminate the context. Terminating a context waits for every socket to close, so it must
/// come last; doing it while run loops still hold sockets is the hang in CONTEXT.md, report 5.
/// Every wait is bounded by the deadline, so the sequence always returns; a phase that runs out of
/// time is reported, and the threads it waited for are detached rather than joined.
/// The order a shutdown runs in. Only the package's own shutdown-correctness suite may pick the
/// wrong one, to prove that its watchdog catches the hang.
package enum ShutdownOrder: Sendable {
    /// cancel -> stop run loops -> close publishers -> stop proxy -> terminate context.
    case ordered
    /// Terminate the context first, with every socket still open (the PyZMQ seed's bug).
    case terminateContextFirst
}

struct ShutdownSequence {
    let members: BusRegistry.Members
    let proxy: BusProxy?
    /// Reply servers (remote control, ZAP), stopped with the proxy.
    let servers: [WorkerThread]
    let context: ZMQContext
    let lingerMilliseconds: Int32
    let deadline: ContinuousClock.Instant
    let logger: Logger
    var order: ShutdownOrder = .ordered

    func run() -> ShutdownReport {
        var report = ShutdownReport()
        report.subscriptionsStopped = members.runLoops.count
        report.publishersClosed = members.publishers.count

        if order == .terminateContextFirst {
            // The seed's bug, kept for the shutdown suite's self-test: terminating the context while
            // publishers, run loops and control sockets still hold sockets blocks until the deadline.
            measure(.terminateContext, into: &report) { terminateContext() }
            return report
        }
        measure(.cancelConsumers, into: &report) {
            for task in members.consumerTasks { task.cancel() }
            for runLoop in members.runLoops { runLoop.storage.finish() }
            return true
        }
        for runLoop in members.runLoops {
            let statistics = runLoop.storage.statistics
            report.messagesDiscarded += statistics.discardedAtShutdown
            report.messagesDropped += statistics.dropped - statistics.discardedAtShutdown
        }
        measure(.stopRunLoops, into: &report) {
            for runLoop in members.runLoops { runLoop.stop() }
            // Every exit is awaited, even after a timeout, so each thread is joined or detached.
            var allExited = true
            for runLoop in members.runLoops where !runLoop.thread.waitForExitBlocking(timeout: remaining) {
                allExited = false
            }
            return allExited
        }
        measure(.closePublishers, into: &report) {
            for publisher in members.publishers { publisher.close(lingerMilliseconds: lingerMilliseconds) }
            for worker in members.workers { worker.stop() }
            return !members.workers.map { $0.thread.waitForExitBlocking(timeout: remaining) }.contains(false)
        }
        measure(.stopProxy, into: &report) {
            // A subscribe or makePublisher that passed its running check before shutdown began may
            // still be connecting (it fails with shutDown right after). Its connect must find the
            // proxy's endpoints bound, or zmq_ctx_term waits forever on the pending connection.
            _ = members.connectionsSettled.waitBlocking(timeout: remaining / 2)
            proxy?.terminate()
            for server in servers { server.stop() }
            // Half the remaining time at most: if a foreign subscriber keeps the proxy blocked in a
            // send, terminating the context (next phase) is what interrupts it.
            let proxyExited = proxy?.thread.waitForExitBlocking(timeout: remaining / 2) ?? true
            let serversExited = servers.map { $0.thread.waitForExitBlocking(timeout: remaining / 2) }
            return proxyExited && !serversExited.contains(false)
        }
        measure(.terminateContext, into: &report) { terminateContext() }
        if report.isComplete {
            logger.debug("bus shut down", metadata: ["report": "\(report)"])
        } else {
            logger.warning("bus shutdown did not complete in time", metadata: ["report": "\(report)"])
        }
        return report
    }

    /// `zmq_ctx_term` on a thread of its own, waited for until the deadline.
    private func terminateContext() -> Bool {
        let context = self.context
        let terminator = DedicatedThread.start(name: "vbus-ctx-term") { try? context.terminate() }
        return terminator.waitForExitBlocking(timeout: remaining)
    }

    private var remaining: Duration {
        max(.zero, deadline - .now)
    }

    private func measure(_ phase: ShutdownReport.PhaseName, into report: inout ShutdownReport, _ body: () -> Bool) {
        let start = ContinuousClock.now
        let completed = body()
        report.phases.append(.init(name: phase, duration: .now - start, completed: completed))
        logger.trace("shutdown phase finished", metadata: ["phase": "\(phase.rawValue)", "completed": "\(completed)"])
    }
}
