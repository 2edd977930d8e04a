internal import NIOCore
internal import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension MQTTClient {
    /// A failed TCP connect as a person would say it: `cannot connect to 127.0.0.1:1883: connection
    /// refused`, rather than NIO's nested description of every address it tried.
    static func connectFailure(_ error: any Error, host: String, port: Int, timeout: Duration) -> MQTTError {
        MQTTError(.connectionFailed, "cannot connect to \(host):\(port): \(reason(error, timeout: timeout))")
    }

    private static func reason(_ error: any Error, timeout: Duration) -> String {
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return reason(first.error, timeout: timeout) }
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "the host name does not resolve" }
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return "no answer within \(timeout)" }
        return "\(error)"
    }
}
