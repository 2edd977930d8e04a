// swift-tools-version:6.2
import PackageDescription

/// One settings array for every target: Swift 6 mode with strict concurrency, and warnings are errors.
let swiftSettings: [SwiftSetting] = [
    .treatAllWarnings(as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "swift-virtual-bus",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VirtualBus", targets: ["VirtualBus"]),
        .library(name: "VirtualBusMQTT", targets: ["VirtualBusMQTT"]),
        .library(name: "ShutdownSuite", targets: ["ShutdownSuite"]),
        .library(name: "VirtualBusBridge", targets: ["VirtualBusBridge"]),
        .executable(name: "vbus", targets: ["vbus"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // MARK: libzmq
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .target(
            name: "ZeroMQ",
            dependencies: ["CZeroMQ"],
            swiftSettings: swiftSettings
        ),

        // MARK: the bus
        .target(
            name: "VirtualBus",
            dependencies: [
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: shutdown-correctness suite (scenario runner used by the tests and `vbus stress`)
        .target(
            name: "ShutdownSuite",
            dependencies: [
                "VirtualBus", "ZeroMQ",
                // The bridge scenarios drive a real MQTTBridge in a ServiceGroup.
                "VirtualBusBridge", "VirtualBusMQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: MQTT
        .target(
            name: "VirtualBusMQTT",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: bridge (bus <-> MQTT)
        .target(
            name: "VirtualBusBridge",
            dependencies: [
                "VirtualBus",
                "ZeroMQ",
                "VirtualBusMQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: CLI and examples
        .executableTarget(
            name: "vbus",
            dependencies: [
                "VirtualBus",
                "ZeroMQ",  // SpawnedProcess, for the benchmarks' reference programs
                "VirtualBusMQTT",
                "VirtualBusBridge",
                "ShutdownSuite",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BusDemo",
            dependencies: [
                "VirtualBus",
                "VirtualBusBridge",
                "VirtualBusMQTT",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/BusDemo",
            swiftSettings: swiftSettings
        ),

        // MARK: tests
        // Fixtures shared by the test targets, which cannot depend on one another. Not a product.
        .target(
            name: "TestSupport",
            dependencies: ["ZeroMQ"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VirtualBusTests",
            dependencies: [
                "VirtualBus", "ZeroMQ",
                "VirtualBusBridge",  // PrivateBroker, for the secured brokers of the CLI bridge tests
                "TestSupport",  // BrokerSecrets
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VirtualBusBridgeTests",
            dependencies: [
                "VirtualBusBridge", "VirtualBus", "VirtualBusMQTT",
                "ShutdownSuite",  // SplitMix64
                "TestSupport",  // DocumentedExamples
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShutdownSuiteTests",
            dependencies: ["ShutdownSuite", "VirtualBus", "ZeroMQ"],
            swiftSettings: swiftSettings
        ),
        // Brokers we did not write (RabbitMQ, NATS, amqtt) and a RabbitMQ cluster under the bridge.
        .testTarget(
            name: "BrokerInteropTests",
            dependencies: [
                "VirtualBusMQTT",
                "VirtualBusBridge",  // PrivateBroker: mosquitto, the reference column
                "ZeroMQ",  // SpawnedProcess, ThreadWork
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VirtualBusMQTTTests",
            dependencies: [
                "VirtualBusMQTT",
                "VirtualBusBridge",  // PrivateBroker: the real mosquitto the tests start
                "TestSupport",  // BrokerSecrets: certificates and password files
                "ZeroMQ",  // SpawnedProcess
                "ShutdownSuite",  // SplitMix64
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
