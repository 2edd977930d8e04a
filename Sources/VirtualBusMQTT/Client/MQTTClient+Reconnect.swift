import ConcurrencyPrimitives

extension MQTTClient {
    /// Connects, and after every lost connection or failed attempt asks the reconnect schedule
    /// whether and when to try again; waits out the delay with ``reconnectWait`` (tests inject
    /// their own clock there).
    func runLoop() async throws {
        do { try checkConfiguration() } catch {
            core.failConnectWaiters(error)
            core.shutdown(error: error)
            throw error
        }
        var schedule = ReconnectSchedule(policy: configuration.reconnect)
        var rng = SystemRandomNumberGenerator()
        while !core.isShutdown {
            var failure: MQTTError?
            var wasConnected = false
            do {
                let end = MQTTWaiter<ClientCore.ConnectionEnd>()
                try await connectChannel(end: end)
                let result = try await end.value()
                if result.wasSessionReset && !core.isShutdown { continue }
                wasConnected = result.wasConnected
                if result.wasConnected { schedule.connected() }
                failure = result.error
                if failure == nil && !core.isShutdown {
                    failure = MQTTError(.connectionFailed, "the connection was closed")
                }
            } catch let error as MQTTError {
                failure = error
            } catch {
                failure = Self.connectFailure(
                    error, host: currentEndpoint.host, port: currentEndpoint.port, timeout: configuration.connectTimeout
                )
            }
            if core.isShutdown { break }
            let error = failure ?? MQTTError(.connectionFailed, "the connection ended")
            let delay = schedule.delay(after: error, using: &rng)
            core.events.emit(
                wasConnected ? .connectionLost(error, retryIn: delay) : .connectFailed(error, retryIn: delay))
            guard let delay else {
                core.failConnectWaiters(error)
                core.shutdown(error: error)
                throw error
            }
            moveToNextEndpoint()
            logger.info("MQTT connection lost, reconnecting", metadata: ["error": "\(error)", "delay": "\(delay)"])
            await reconnectWait(delay)
        }
    }
}
