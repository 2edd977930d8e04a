import ConcurrencyPrimitives
extension ClientCore {
    /// Runs the application's authenticator for one AUTH challenge in a task of its own (it may
    /// await anything; the event loop that delivered the challenge goes on), then sends its answer.
    func answer(_ challenge: MQTTAuthenticationChallenge) {
        guard let authentication = configuration.authentication else { return }
        Task {
            do {
                let data = try await authentication.respond(challenge)
                perform { s in s.machine.answerAuthentication(data, isReauthentication: challenge.isReauthentication) }
            } catch {
                // The error text may be the application's: it is kept out of the message on purpose
                // (it could quote credentials); only its type is named.
                let reason = MQTTError(
                    .connectionRefused, "the authenticator failed (\(type(of: error)))",
                    reasonCode: .notAuthorized)
                perform { _ in [.close(reason)] }
            }
        }
    }

    /// Starts a re-authentication and waits for the broker's verdict.
    func reauthenticate() async throws(MQTTError) -> MQTTReasonCode {
        let waiter = MQTTWaiter<[MQTTReasonCode]>()
        perform { s in s.machine.reauthenticate(completion: .codes(waiter)) }
        return try await waiter.value().first ?? .success
    }
}
