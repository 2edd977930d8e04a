#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The standard library's `withUnsafeBytes` and `withUTF8` rethrow untyped errors; these keep the
// bus API's `throws(BusError)` exact without casts.

extension Array where Element == UInt8 {
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(BusError) -> Result) throws(BusError) -> Result {
        try withUnsafeBytes { bytes in Swift.Result { () throws(BusError) in try body(bytes) } }.get()
    }
}

extension String {
    func withUTF8Bytes<Result>(_ body: (UnsafeRawBufferPointer) throws(BusError) -> Result) throws(BusError) -> Result {
        var copy = self
        return try copy.withUTF8 { utf8 in
            Swift.Result { () throws(BusError) in try body(UnsafeRawBufferPointer(utf8)) }
        }.get()
    }
}

extension Data {
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(BusError) -> Result) throws(BusError) -> Result {
        try withUnsafeBytes { bytes in Swift.Result { () throws(BusError) in try body(bytes) } }.get()
    }
}
