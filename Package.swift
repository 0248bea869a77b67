// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "messenger-dash",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "messenger-dash", targets: ["messenger-dash"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The webhook receiver's HTTP server (pure Swift, no SwiftNIO: a short first build) and
        // its HMAC-SHA256 check.
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // `serve`'s log lines (swift-log) and its /metrics (swift-prometheus: the text format and
        // its registry, on swift-metrics and swift-atomics; no SwiftNIO).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The Graph API client (#29): async-http-client on SwiftNIO, TLS by swift-nio-ssl (BoringSSL,
        // so `graph_ca_file` can name the roots to trust) and HTTP/2 by swift-nio-http2, at a
        // fraction of URLSession's CPU a request. The same packages carry the fake Send API the
        // bench and the tests serve over HTTPS.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    ],
    targets: [
        .systemLibrary(name: "CNcursesw", path: "Sources/CNcursesw"),
        // libqrencode: the device login's QR code (a real encoder; Reed-Solomon is not ten lines).
        .systemLibrary(name: "CQRencode", path: "Sources/CQRencode"),
        // libpq: PostgreSQL's own client (Debian's libpq-dev), for `--db postgresql://…` (#30).
        // Synchronous like GRDB, so the store keeps one shape on both engines.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),
        .target(
            name: "TerminalKit",
            dependencies: ["CNcursesw", "CQRencode", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "MessengerCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API, for the runner's hot loop (Store/BulkStatement.swift).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                "CLibPQ",
                .product(name: "TOMLKit", package: "TOMLKit"),
                // appsecret_proof (HMAC-SHA256) on Graph calls; the webhook's signatures use it too.
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // The Send API's own HTTP/2 connections (Facebook/SendConnections.swift).
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]
        ),
        // A Send API that answers like Facebook's after a set latency, over HTTPS (HTTP/2 and
        // HTTP/1.1) with a self-signed certificate, and counts each page's requests a second as
        // it sees them: for the bench and the tests, never the product.
        .target(
            name: "FakeSendAPI",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(name: "Dashboard", dependencies: ["TerminalKit", "MessengerCore"]),
        .target(
            name: "WebhookServer",
            dependencies: [
                "MessengerCore",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "messenger-dash",
            dependencies: [
                "Dashboard", "MessengerCore", "TerminalKit", "WebhookServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "DashboardFuzz", dependencies: ["Dashboard", "MessengerCore", "TerminalKit"]),
        .executableTarget(name: "messenger-fuzz", dependencies: ["DashboardFuzz"]),
        .executableTarget(
            name: "messenger-bench",
            dependencies: [
                "Dashboard", "FakeSendAPI", "MessengerCore", "TerminalKit", "WebhookServer",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "MessengerCoreTests", dependencies: ["MessengerCore", "StoreTestSupport"]),
        // Against a private PostgreSQL cluster each test class starts and stops (#30).
        .testTarget(
            name: "PostgresTests",
            dependencies: ["FakeSendAPI", "MessengerCore", "StoreTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // A test class on either engine: SQLite, or a private PostgreSQL cluster (#30).
        .target(name: "StoreTestSupport", dependencies: ["MessengerCore"], path: "Tests/StoreTestSupport"),
        // Graph API and webhook tests against servers they start on 127.0.0.1.
        .testTarget(
            name: "FacebookTests",
            dependencies: [
                "FakeSendAPI", "MessengerCore", "WebhookServer", "StoreTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Golden-file assertions shared by the UI test targets.
        .target(name: "GoldenSupport", dependencies: ["TerminalKit"], path: "Tests/GoldenSupport"),
        .testTarget(name: "TerminalKitTests", dependencies: ["TerminalKit", "GoldenSupport"]),
        .testTarget(name: "DashboardTests", dependencies: ["Dashboard", "DashboardFuzz", "MessengerCore", "TerminalKit", "GoldenSupport"]),
    ]
)
