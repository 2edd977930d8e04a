/// Why a benchmark could not produce a result (a lost message, an anchor that failed or printed
/// something unexpected); printed as it is.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}
