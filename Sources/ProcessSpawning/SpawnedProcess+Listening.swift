#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension SpawnedProcess {
    /// Whether this process holds a TCP socket listening on `port` (IPv4 or IPv6), read from `/proc`.
    ///
    /// Readiness for a server we started on a port we picked: "something accepts connections on
    /// the port" is not enough, because between our probe for a free port and the server's bind,
    /// another listener in this machine (a test's fake broker binding port 0) can take the port,
    /// and the server then fails while the port still accepts. Linux only; elsewhere `false`.
    package func isListening(onPort port: Int) -> Bool {
        let listening = Self.listeningSocketInodes(port: port)
        guard !listening.isEmpty, let directory = opendir("/proc/\(pid)/fd") else { return false }
        defer { closedir(directory) }
        var target = [CChar](repeating: 0, count: 64)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            let count = readlink("/proc/\(pid)/fd/\(name)", &target, target.count - 1)
            guard count > 0 else { continue }
            let link = String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // "socket:[12345]"
            guard link.hasPrefix("socket:["), let inode = UInt64(link.dropFirst(8).dropLast()) else { continue }
            if listening.contains(inode) { return true }
        }
        return false
    }

    /// How ``waitUntilListening(onPort:timeout:)`` ended.
    package enum ListeningOutcome: Sendable, Equatable {
        /// The process listens on the port.
        case listening
        /// The process ended first.
        case exited
        /// Neither within the timeout: the process still runs.
        case timedOut
    }

    /// Blocks until this process listens on `port` itself (see ``isListening(onPort:)``), ends, or
    /// `timeout` passes: the readiness of a server we started. Blocking: from a thread of its own,
    /// never from one of Swift's few cooperative threads.
    package func waitUntilListening(onPort port: Int, timeout: Duration) -> ListeningOutcome {
        let deadline = ContinuousClock.now + timeout
        while true {
            if isListening(onPort: port) { return .listening }
            if !isRunning { return .exited }
            if ContinuousClock.now >= deadline { return .timedOut }
            usleep(5_000)  // between two looks at /proc: nothing signals that a server has bound its port
        }
    }

    /// Inodes of the sockets in state LISTEN on `port`, from `/proc/net/tcp` and `/proc/net/tcp6`.
    private static func listeningSocketInodes(port: Int) -> Set<UInt64> {
        var inodes: Set<UInt64> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            for line in readText(table).split(separator: "\n").dropFirst() {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[3] == "0A",
                    let portText = fields[1].split(separator: ":").last, Int(portText, radix: 16) == port,
                    let inode = UInt64(fields[9])
                else { continue }
                inodes.insert(inode)
            }
        }
        return inodes
    }

    private static func readText(_ path: String) -> String {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        return String(decoding: readAll(descriptor), as: UTF8.self)
    }
}
