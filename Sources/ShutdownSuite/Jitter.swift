import Synchronization
public import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Randomized timing: the suite perturbs interleavings with yields and short busy work, never with
/// sleeps, so a scenario's outcome depends on ordering and not on how long a sleep happened to last.
public enum Jitter {
    /// In async code: nothing, a few `Task.yield()`s, or a short spin, chosen by `random`.
    public static func async(_ random: inout SplitMix64) async {
        switch random.next() % 4 {
        case 0:
            return
        case 1:
            for _ in 0..<Int(random.next() % 4 + 1) { await Task.yield() }
        case 2:
            spin(Int(random.next() % 20_000))
        default:
            await Task.yield()
            spin(Int(random.next() % 2_000))
        }
    }

    /// On a dedicated thread: nothing, a few `sched_yield()`s, or a short spin.
    public static func thread(_ random: inout SplitMix64) {
        switch random.next() % 4 {
        case 0:
            return
        case 1:
            for _ in 0..<Int(random.next() % 4 + 1) { sched_yield() }
        default:
            spin(Int(random.next() % 20_000))
        }
    }

    /// Busy work the optimiser cannot remove: roughly `iterations` multiply-adds.
    @inline(never)
    public static func spin(_ iterations: Int) {
        var accumulator: UInt64 = 0x2545_F491_4F6C_DD1D
        for index in 0..<iterations {
            accumulator = accumulator &* 6_364_136_223_846_793_005 &+ UInt64(truncatingIfNeeded: index)
        }
        sink.store(accumulator, ordering: .relaxed)
    }
}

private let sink = Atomic<UInt64>(0)
