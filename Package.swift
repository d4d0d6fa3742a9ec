// swift-tools-version: 6.0
// chartsync builds and runs on Linux only (glibc: st_mtim, flock, pthreads, Debian's libcurl,
// libarchive and libyaml); no Apple platform is declared because none is built or tested.
import PackageDescription

let package = Package(
    name: "chartsync",
    products: [
        .library(name: "ChartSync", targets: ["ChartSync"]),
        .executable(name: "chartsync", targets: ["chartsync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C adapters: the only targets that see C headers.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // glibc calls Swift's Glibc module does not declare (sync_file_range).
        .systemLibrary(name: "CLinux"),

        // Pure Swift values and rules.
        .target(name: "ChartSyncCore"),
        // The one file-system and POSIX layer: atomic writes, file hashing, errno text, directory
        // fds, temporary directories, the project lock, the worker pool.
        .target(name: "ChartSyncBasics", dependencies: [
            "ChartSyncCore", "CLinux", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Streaming YAML reading: index.yaml, Chart.yaml.
        .target(name: "ChartSyncIndex", dependencies: ["ChartSyncCore", "ChartSyncBasics", "CYAML"]),
        // HTTP(S)/file transport over libcurl.
        .target(name: "ChartSyncTransport", dependencies: [
            "ChartSyncCore", "ChartSyncBasics", "CCurl", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Chart tarball and bundle reading/writing over libarchive.
        .target(name: "ChartSyncArchive", dependencies: [
            "ChartSyncCore", "ChartSyncBasics", "CArchive", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Go-template lexer, parser and evaluator, and Helm's values coalescing (image discovery).
        .target(name: "ChartSyncTemplate", dependencies: ["ChartSyncCore", "ChartSyncIndex"]),
        // Use cases: search, index, (pull, bundle, verify).
        .target(name: "ChartSync", dependencies: [
            "ChartSyncCore", "ChartSyncBasics", "ChartSyncIndex", "ChartSyncTransport", "ChartSyncArchive", "ChartSyncTemplate",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "chartsync", dependencies: [
            "ChartSync", "ChartSyncCore", "ChartSyncIndex", "ChartSyncTransport", "ChartSyncArchive",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Real servers for integration tests: nginx (static, TLS, basic auth) and a scriptable fault server.
        .target(name: "ChartSyncTestSupport", dependencies: [], path: "Tests/Support", exclude: ["Scripts"]),

        .testTarget(name: "ChartSyncCoreTests", dependencies: ["ChartSyncCore", "ChartSyncTestSupport"]),
        .testTarget(name: "ChartSyncIndexTests", dependencies: ["ChartSyncIndex", "ChartSyncCore", "ChartSyncTestSupport"]),
        .testTarget(name: "ChartSyncTransportTests", dependencies: ["ChartSyncTransport", "ChartSyncTestSupport"]),
        .testTarget(name: "ChartSyncArchiveTests", dependencies: ["ChartSyncArchive", "ChartSyncCore", "ChartSyncTestSupport"]),
        .testTarget(name: "ChartSyncTemplateTests", dependencies: ["ChartSyncTemplate", "ChartSyncIndex", "ChartSyncCore"]),
        .testTarget(name: "ChartSyncTests", dependencies: [
            "ChartSync", "ChartSyncCore", "ChartSyncBasics", "ChartSyncIndex", "ChartSyncTransport", "ChartSyncArchive",
            "ChartSyncTemplate", "ChartSyncTestSupport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Tests that run the built `chartsync` binary; depending on the executable makes SwiftPM build it first.
        .testTarget(name: "ChartSyncCLITests", dependencies: [
            "chartsync", "ChartSyncCore", "ChartSyncIndex", "ChartSyncArchive", "ChartSyncTestSupport",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ]
)
