// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "credlog",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "credlog", targets: ["credlog"]),
        .library(name: "CredlogEvents", targets: ["CredlogEvents"]),
        .library(name: "CredlogDomain", targets: ["CredlogDomain"]),
        .library(name: "CredlogProjections", targets: ["CredlogProjections"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.3.0"),
        // Only the OTLP/HTTP exporter: the gRPC one would build grpc-swift for nothing.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // libsodium, from the system (Debian: libsodium-dev).
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // The write side: event types, the log, the stores (SQLite, PostgreSQL), sealing, tamper evidence.
        .target(
            name: "CredlogEvents",
            dependencies: [
                "CSodium",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Events"
        ),
        // The read side: read models, projector, rebuild, queries, time travel, reports.
        .target(
            name: "CredlogProjections",
            dependencies: ["CredlogEvents", "CredlogDomain", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Projections"
        ),
        // The domain: pure deciders and the command service around them.
        .target(
            name: "CredlogDomain",
            dependencies: ["CredlogEvents", .product(name: "Tracing", package: "swift-distributed-tracing")],
            path: "Sources/CredlogDomain",
            resources: [.copy("Resources")]
        ),
        // The credential lifecycle: the piece catalogue, OAuth2 (code exchange, refresh),
        // validation requests, the sweeper and webhook notifications. The outbound HTTP lives here.
        .target(
            name: "CredlogLifecycle",
            dependencies: [
                "CredlogEvents", "CredlogDomain", "CredlogProjections",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/CredlogLifecycle"
        ),
        // The HTTP API and the Connections page.
        .target(
            name: "CredlogServer",
            dependencies: [
                "CredlogEvents", "CredlogDomain", "CredlogProjections", "CredlogLifecycle",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Sources/CredlogServer",
            resources: [.copy("Resources")]
        ),
        // The command-line interface.
        .executableTarget(
            name: "credlog",
            dependencies: [
                "CredlogEvents",
                "CredlogDomain",
                "CredlogProjections",
                "CredlogServer",
                "CredlogLifecycle",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/credlog"
        ),
        // Temporary databases and the built CLI, for the test targets.
        .target(
            name: "CredlogTestSupport",
            dependencies: ["CredlogEvents", "CredlogDomain", "CredlogProjections", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics")],
            path: "Tests/Support"
        ),
        // The benchmark: credlog beside the raw SQLite limit and the Python eventsourcing library.
        .executableTarget(
            name: "credlog-bench",
            dependencies: [
                "CredlogEvents", "CredlogDomain", "CredlogProjections",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/credlog-bench"
        ),
        // Fuzz targets: `scripts/fuzz` builds them with libFuzzer (-sanitize=fuzzer); built
        // plainly, `credlog-fuzz FILE…` replays inputs through the target CREDLOG_FUZZ_TARGET names.
        .executableTarget(
            name: "credlog-fuzz",
            dependencies: ["CredlogEvents", "CredlogDomain", "CredlogProjections", "CredlogLifecycle"],
            path: "Tests/Fuzz",
            exclude: ["Corpus"]
        ),
        .testTarget(
            name: "EventsTests",
            dependencies: ["CredlogEvents", "CredlogTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "MetricsTestKit", package: "swift-metrics")],
            path: "Tests/EventsTests",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DomainTests",
            dependencies: ["CredlogDomain", "CredlogEvents", "CredlogTestSupport"],
            path: "Tests/DomainTests"
        ),
        .testTarget(
            name: "ProjectionsTests",
            dependencies: ["CredlogProjections", "CredlogDomain", "CredlogEvents", "CredlogTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/ProjectionsTests"
        ),
        .testTarget(
            name: "ServerTests",
            dependencies: ["CredlogServer", "CredlogLifecycle", "CredlogDomain", "CredlogEvents", "CredlogProjections",
                           "CredlogTestSupport",
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/ServerTests"
        ),
        .testTarget(
            name: "LifecycleTests",
            dependencies: ["credlog", "CredlogLifecycle", "CredlogServer", "CredlogDomain", "CredlogEvents", "CredlogProjections",
                           "CredlogTestSupport",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/LifecycleTests"
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["credlog", "CredlogEvents", "CredlogTestSupport",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/CLITests",
            exclude: ["Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
