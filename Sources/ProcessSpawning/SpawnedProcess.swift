internal import CProcessSpawn
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process started with `posix_spawn`, for the private broker and the tests' peers.
///
/// Why not Foundation's `Process`: on Linux (swift-corelibs-foundation in Swift 6.3) its `run()`
/// over-reads `struct dirent` while scanning `/proc/self/fd` and crashes intermittently in
/// processes with many descriptors (swiftlang/swift-corelibs-foundation#5472) — our test runs hit
/// it. Its child also inherits every descriptor of ours that lacks close-on-exec. This spawner
/// closes all but 0-2 in the child (`posix_spawn_file_actions_addclosefrom_np`), resets the
/// child's signal mask (a test runner's blocked SIGTERM would otherwise be inherited) and creates
/// its pipes close-on-exec, so no other child keeps them open.
package final class SpawnedProcess: Sendable {
    /// Why a spawn failed.
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// The child's process id.
    package let pid: Int32
    /// Read end of the child's standard output (when captured).
    package let standardOutput: Int32?
    /// Read end of the child's standard error (when captured).
    package let standardError: Int32?
    /// The raw `waitpid` status once the child has been reaped.
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` (a path) with `arguments`; `standardInput` is written to the child and
    /// closed; with `captureOutput`, standard output and error are pipes to read from, otherwise
    /// they go to /dev/null.
    package init(executable: String, arguments: [String], standardInput: [UInt8]? = nil, captureOutput: Bool = true)
        throws(Failure)
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        // SIGPIPE keeps the parent's disposition: servers such as mosquitto rely on it being ignored.
        for signal in [SIGTERM, SIGINT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        func pipePair() throws(Failure) -> (read: Int32, write: Int32) {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw Failure(description: "pipe failed: errno \(errno)") }
            // Close-on-exec (pipe2 is not exported to Swift): no other child inherits these ends;
            // the child gets its own copies through dup2, which clears the flag.
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        let input = try pipePair()
        posix_spawn_file_actions_adddup2(&actions, input.read, 0)
        childEnds.append(input.read)
        var output: (read: Int32, write: Int32)?
        var errors: (read: Int32, write: Int32)?
        if captureOutput {
            output = try pipePair()
            errors = try pipePair()
            posix_spawn_file_actions_adddup2(&actions, output!.write, 1)
            posix_spawn_file_actions_adddup2(&actions, errors!.write, 2)
            childEnds += [output!.write, errors!.write]
            parentEnds += [output!.read, errors!.read]
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }

        // Last (actions run in order, after the dup2s above): the child keeps descriptors 0-2 only;
        // a test runner or a bus holds sockets, pipes and listening ports a broker must not keep
        // alive after it is gone.
        let closeFrom = CProcessSpawn_closeFrom(&actions, 3)
        guard closeFrom == 0 else {
            for fd in childEnds + parentEnds + [input.write] { close(fd) }
            throw Failure(description: "posix_spawn_file_actions_addclosefrom_np failed: \(closeFrom)")
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child = pid_t()
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        for fd in childEnds { close(fd) }
        guard result == 0 else {
            close(input.write)
            for fd in parentEnds { close(fd) }
            throw Failure(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        standardOutput = output?.read
        standardError = errors?.read
        if let standardInput, !standardInput.isEmpty {
            _ = standardInput.withUnsafeBytes { write(input.write, $0.baseAddress, $0.count) }
        }
        close(input.write)
    }

    deinit {
        if isRunning { kill(pid, SIGKILL); _ = waitForExit() }
        if let standardOutput { close(standardOutput) }
        if let standardError { close(standardError) }
    }

    /// Whether the child is still running (reaps it when it has ended).
    package var isRunning: Bool {
        exitStatus.withLock { exitStatus in
            guard exitStatus == nil else { return false }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { exitStatus = status; return false }
            return true
        }
    }

    /// Sends a signal (SIGTERM, SIGKILL, ...) if the child is still running.
    package func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Blocks until the child ends; returns its exit code (128 + signal number when killed).
    @discardableResult
    package func waitForExit() -> Int32 {
        let status = exitStatus.withLock { exitStatus in
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            exitStatus = status
            return status
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Reads a descriptor to its end (blocking).
    package static func readAll(_ descriptor: Int32) -> [UInt8] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 { data += chunk[0..<count] } else if count == 0 || errno != EINTR { break }
        }
        return data
    }
}
