/// The shutdown-correctness suite: randomized scenarios that drive a ``VirtualBus`` and check,
/// under a watchdog, that shutdown is ordered, bounded and loses nothing unaccounted.
public enum ShutdownSuite {}
