#if canImport(Glibc)
import Glibc
#endif

/// CPU time (user + system) from `getrusage`: of this process, or of the child processes it has
/// waited for. Benchmarks report it per message next to throughput: on a machine where the
/// broker and both clients share the cores, CPU per message is the steadier figure.
enum ProcessCPU {
    static var ownSeconds: Double { seconds(RUSAGE_SELF.rawValue) }
    static var childrenSeconds: Double { seconds(RUSAGE_CHILDREN.rawValue) }

    private static func seconds(_ who: Int32) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        func value(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return value(usage.ru_utime) + value(usage.ru_stime)
    }
}
