import Testing
import ShutdownSuite

@Suite("Shutdown-correctness suite")
struct ShutdownSuiteTests {
    @Test("the suite module links")
    func links() {
        _ = ShutdownSuite.self
    }
}
