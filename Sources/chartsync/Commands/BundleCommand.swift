import ArgumentParser
import ChartSync
import ChartSyncArchive
import Foundation

/// `chartsync bundle`: pack the project into one airgap bundle.
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Pack versions.lock, the chart list, charts/external, charts/custom and charts/patches into one bundle.",
        discussion: """
            Every vendored chart is proven against versions.lock first. The bundle is reproducible \
            (sorted entries, fixed owner and modes, mtime from SOURCE_DATE_EPOCH or 0). A sidecar \
            FILE.sha256 is always written; with --split-size, FILE.000, FILE.001, ... and FILE.parts.
            """
    )

    @Option(name: .shortAndLong, help: "The bundle file to write.")
    var output: String

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    @Option(name: .customLong("compression"), help: "zstd (default), gzip or none.")
    var compression = "zstd"

    @Option(name: .customLong("split-size"), help: "Cut into parts of this size: bytes, or with K, M, G (e.g. 4G for FAT32: 4 GiB - 1 byte).")
    var splitSize: String?

    @Option(name: .customLong("name"), help: "The bundle's name (default: the project folder's name).")
    var name: String?

    @Option(name: .customLong("sequence"), help: "The delivery's sequence number; raise it for each delivery.")
    var sequence: Int64 = 1

    @Option(name: .customLong("sign-key"), help: "Sign the manifest with this Ed25519 private key (chartsync keygen).")
    var signKey: String?

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// `-v/--verbose`.
    @OptionGroup var steps: VerboseOptions

    func validate() throws {
        guard BundleCompression(rawValue: compression) != nil else { throw ValidationError("--compression must be zstd, gzip or none") }
        if let splitSize, Size.parse(splitSize) == nil { throw ValidationError("--split-size \"\(splitSize)\" is not a size (e.g. 4G, 700M, 1048576)") }
    }

    func run() throws {
        var mtime: Int64 = 0
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text), value >= 0 else { throw Failure(code: .usage, message: "SOURCE_DATE_EPOCH must be a non-negative integer") }
            mtime = value
        }
        let options = PackOptions(output: Paths.absolute(output), compression: BundleCompression(rawValue: compression)!,
                                  splitSize: splitSize.flatMap(Size.parse), name: name, sequence: sequence, signKey: signKey,
                                  mtime: mtime, chartsyncVersion: Chartsync.version)
        let report = try Failure.mapping { try Packer(layout: ProjectLayout(chartList: project.chartList), onEvent: Terminal.eventHandler(verbose: steps.verbose)).pack(options) }
        if format.json {
            Terminal.output(try JSONOutput.encode(BundleSummary(report)))
        } else {
            for line in BundleSummary.lines(report) { Terminal.output(line) }
        }
    }
}

/// Sizes like `4G` (4 GiB - 1 byte, what FAT32 holds), `700M`, `64K` or plain bytes.
enum Size {
    static func parse(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        guard let last = text.uppercased().last else { return nil }
        if let unit = units[last], let n = Int64(text.dropLast()), n > 0 {
            let size = n * unit
            // "4G" means as much as FAT32 holds: 4 GiB - 1 byte.
            return size == 4 << 30 ? size - 1 : size
        }
        return Int64(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
