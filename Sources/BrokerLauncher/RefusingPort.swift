import ConcurrencyPrimitives
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port where nothing listens, held so that nothing can start to: a socket is
/// bound to it and never listens, so a connection to it is refused at once, and neither the
/// kernel's port-0 allocation nor another bind (without `SO_REUSEPORT`) can take it while it
/// is held. For tests and scenarios of an unreachable broker.
///
/// A port found free and then released (``BrokerPort/free()``) is not enough for these:
/// a broker started meanwhile by a concurrent test may be handed the same port, and the
/// "unreachable" client then talks to it.
///
/// Hold it for as long as the port must refuse, and ``release()`` it (or let it go) after:
/// `let nobody = try RefusingPort(); defer { nobody.release() }`.
package final class RefusingPort: Sendable {
    /// The port (on 127.0.0.1).
    package let port: Int
    private let descriptor: Locked<Int32?>

    /// Binds a socket to 127.0.0.1:`port` (0: a port the kernel picks), without listening.
    ///
    /// - Throws: ``PrivateBrokerError`` when the port is taken (or in `TIME_WAIT`).
    package init(port: Int = 0) throws(PrivateBrokerError) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw PrivateBrokerError("socket() failed: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else {
            let reason = errno
            close(descriptor)
            throw PrivateBrokerError("cannot bind loopback port \(port): errno \(reason)")
        }
        self.descriptor = Locked(descriptor)
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Lets the port go: another socket may take it from now on. Idempotent; also done when
    /// the value goes away.
    package func release() {
        descriptor.withLock { descriptor in
            if let open = descriptor { close(open) }
            descriptor = nil
        }
    }

    deinit { release() }
}
