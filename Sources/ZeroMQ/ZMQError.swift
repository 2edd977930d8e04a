import CZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed libzmq call: the errno it left and the name of the call.
package struct ZMQError: Error, Hashable, CustomStringConvertible {
    /// The errno value captured right after the call failed.
    package var code: Int32
    /// The failing libzmq function, e.g. `zmq_bind`.
    package var call: String
    /// The endpoint involved, for bind and connect.
    package var endpoint: String?

    package init(code: Int32, call: StaticString, endpoint: String? = nil) {
        self.code = code
        self.call = "\(call)"
        self.endpoint = endpoint
    }

    /// Captures `zmq_errno()`; call this first thing after a failing libzmq call.
    init(call: StaticString, endpoint: String? = nil) {
        self.init(code: zmq_errno(), call: call, endpoint: endpoint)
    }

    /// The context was terminated while the call was running or before it.
    package var isContextTerminated: Bool { code == ETERM }
    /// The address is already in use (a tcp port, an inproc or ipc name).
    package var isAddressInUse: Bool { code == EADDRINUSE }

    /// libzmq's own text for the errno.
    package var reason: String { String(cString: zmq_strerror(code)) }

    package var description: String {
        if let endpoint { return "\(call)(\(endpoint)) failed: \(reason)" }
        return "\(call) failed: \(reason)"
    }
}
