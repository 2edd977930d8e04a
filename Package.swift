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
        .library(name: "VirtualBusBridge", targets: ["VirtualBusBridge"]),
        .executable(name: "vbus", targets: ["vbus"]),
        // Release checks (benchmarks beside their reference programs, stress runs), kept out of `vbus`.
        .executable(name: "vbus-bench", targets: ["VBusBench"]),
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
        // MARK: C shims, one concern each
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"])]
        ),
        .systemLibrary(name: "CThreadNaming"),  // pthread_setname_np
        .systemLibrary(name: "CProcessSpawn"),  // posix_spawn_file_actions_addclosefrom_np

        // MARK: building blocks (package-internal)
        // Locks, one-shot events and results, threads of our own: shared by the bus, the MQTT
        // client and the bridge.
        .target(
            name: "ConcurrencyPrimitives",
            dependencies: ["CThreadNaming"],
            swiftSettings: swiftSettings
        ),
        // Child processes without Foundation's Process (see SpawnedProcess).
        .target(
            name: "ProcessSpawning",
            dependencies: ["CProcessSpawn"],
            swiftSettings: swiftSettings
        ),
        // A private mosquitto on a free loopback port: for `vbus bridge` without --broker, the
        // demo, the benchmarks and the tests. Not a product: a tool of this repository's programs.
        .target(
            name: "BrokerLauncher",
            dependencies: ["ConcurrencyPrimitives", "ProcessSpawning"],
            swiftSettings: swiftSettings
        ),
        // libzmq, and nothing else.
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
                "ConcurrencyPrimitives",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: shutdown-correctness suite (scenario runner used by the tests and `vbus-bench stress`)
        // Not a product: users run it through `vbus-bench stress`, or its tests.
        .target(
            name: "ShutdownSuite",
            dependencies: [
                "VirtualBus", "ZeroMQ", "ConcurrencyPrimitives", "BrokerLauncher",
                "TestSupport",  // SplitMix64
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
                "ConcurrencyPrimitives",
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
                "VirtualBusMQTT",
                "ConcurrencyPrimitives",
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
                "VirtualBusMQTT",
                "VirtualBusBridge",
                "BrokerLauncher",  // the private mosquitto without --broker
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "VBusBench",
            dependencies: [
                "VirtualBus",
                "VirtualBusMQTT",
                "VirtualBusBridge",
                "ShutdownSuite",
                "BrokerLauncher",
                "ConcurrencyPrimitives",
                "ProcessSpawning",  // the reference programs
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/VBusBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "BusDemo",
            dependencies: [
                "BrokerLauncher",
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
            dependencies: ["ConcurrencyPrimitives", "ProcessSpawning"],  // BrokerSecrets runs openssl
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VirtualBusTests",
            dependencies: [
                "VirtualBus", "ZeroMQ", "ConcurrencyPrimitives", "ProcessSpawning",
                "BrokerLauncher",  // the secured brokers of the CLI bridge tests
                "TestSupport",  // BrokerSecrets
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VirtualBusBridgeTests",
            dependencies: [
                "VirtualBusBridge", "VirtualBus", "VirtualBusMQTT", "ConcurrencyPrimitives", "BrokerLauncher",
                "TestSupport",  // DocumentedExamples, SplitMix64
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ShutdownSuiteTests",
            dependencies: ["ShutdownSuite", "VirtualBus", "ZeroMQ", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        // Brokers we did not write (RabbitMQ, NATS, amqtt) and a RabbitMQ cluster under the bridge.
        .testTarget(
            name: "BrokerInteropTests",
            dependencies: [
                "VirtualBusMQTT",
                "BrokerLauncher",  // PrivateBroker: mosquitto, the reference column
                // ThreadWork, SpawnedProcess: the other brokers and the peers
                "ConcurrencyPrimitives", "ProcessSpawning",
                "TestSupport",  // deadlines
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VirtualBusMQTTTests",
            dependencies: [
                "VirtualBusMQTT",
                "BrokerLauncher",  // the real mosquitto the tests start
                "TestSupport",  // BrokerSecrets (certificates, password files), SplitMix64
                "ConcurrencyPrimitives", "ProcessSpawning",
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
