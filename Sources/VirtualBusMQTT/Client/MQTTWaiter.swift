import ConcurrencyPrimitives

/// A request's one-shot outcome inside the client: every operation fails with an ``MQTTError``.
typealias MQTTWaiter<Value: Sendable> = Waiter<Value, MQTTError>
