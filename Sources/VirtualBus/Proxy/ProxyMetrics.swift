import Metrics
import Synchronization

/// The proxy's instruments (see ``BusMetrics`` for the labels), fed from its own counters.
///
/// The proxy forwards inside libzmq (`zmq_proxy_steerable`), where nothing of ours runs per
/// message, and libzmq counts there anyway: so the counters are sampled, not incremented per
/// message. Every read of the proxy's statistics (``VirtualBus/statistics()``, the remote
/// control's `STATISTICS`) adds what was forwarded since the previous read.
final class ProxyMetrics: Sendable {
    /// The counters in libzmq's reply order: messages and bytes, for each direction.
    private let counters: [Counter]
    /// The largest sample recorded so far, per counter. Two reads may record out of order; keeping
    /// the largest makes the later, smaller sample add nothing instead of going backwards.
    private let recorded = Mutex([UInt64](repeating: 0, count: 8))

    /// The `direction` dimension, in libzmq's reply order (as ``BusStatistics`` names the fields).
    static let directions = ["frontendReceived", "frontendSent", "backendReceived", "backendSent"]

    init(factory: any MetricsFactory, dimensions: [(String, String)]) {
        counters = Self.directions.flatMap { direction in
            ["vbus_proxy_messages_total", "vbus_proxy_bytes_total"].map { label in
                Counter(label: label, dimensions: dimensions + [("direction", direction)], factory: factory)
            }
        }
    }

    /// Records one sample of libzmq's eight cumulative counters.
    func record(_ sample: [UInt64]) {
        precondition(sample.count == counters.count)
        let increments = recorded.withLock { recorded in
            sample.indices.map { index in
                let increment = sample[index] > recorded[index] ? sample[index] - recorded[index] : 0
                recorded[index] = max(recorded[index], sample[index])
                return increment
            }
        }
        for (counter, increment) in zip(counters, increments) where increment > 0 {
            counter.increment(by: Int64(clamping: increment))
        }
    }
}
