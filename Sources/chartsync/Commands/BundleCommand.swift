import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncArchive
import Foundation

/// `chartsync bundle`: pack the project into one airgap bundle.
struct BundleCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Pack versions.lock, the chart list, charts/, the image store and bundle.include's files into one bundle.",
        discussion: """
            Every vendored chart is proven against versions.lock first. The bundle is reproducible \
            (sorted entries, fixed owner and modes, mtime from SOURCE_DATE_EPOCH or 0). A sidecar \
            FILE.sha256 is always written; with --split-size, FILE.000, FILE.001, ... and FILE.parts.
            """
    )

    /// The bundle file to write.
    @Option(name: .shortAndLong, help: "The bundle file to write.")
    var output: String

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    /// How to compress the bundle.
    @Option(name: .customLong("compression"), help: "How to compress the bundle.")
    var compression = BundleCompression.zstd

    /// The size of each part, when the bundle is cut into parts.
    @Option(name: .customLong("split-size"),
            help: "Cut into parts of this size: bytes, or a whole number with K, M, G or T (e.g. 4G for FAT32: 4 GiB - 1 byte); less than 8 EiB.")
    var splitSize: ByteSize?

    /// The bundle's name; the project folder's name when nil.
    @Option(name: .customLong("name"), help: "The bundle's name (default: the project folder's name).")
    var name: String?

    /// The delivery's sequence number.
    @Option(name: .customLong("sequence"), help: "The delivery's sequence number; raise it for each delivery.")
    var sequence: Int64 = 1

    /// The Ed25519 private key to sign the manifest with.
    @Option(name: .customLong("sign-key"), help: "Sign the manifest with this Ed25519 private key (chartsync keygen).")
    var signKey: String?

    /// The base of a delta.
    @Option(name: .customLong("base"), help: ArgumentHelp(
        "Pack a delta: only the files the base lacks (a manifest a site exported with inspect SITE --export, or the bundle it installed).",
        valueName: "BASE"))
    var base: String?

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// `-v/--verbose`.
    @OptionGroup var steps: VerboseOptions

    /// Packs the project and prints what was written.
    func run() throws {
        var mtime: Int64 = 0
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text), value >= 0 else { throw Failure(code: .usage, message: "SOURCE_DATE_EPOCH must be a non-negative integer") }
            mtime = value
        }
        let options = PackOptions(output: Paths.absolute(output), compression: compression,
                                  splitSize: splitSize?.bytes, name: name, sequence: sequence, signKey: signKey,
                                  mtime: mtime, chartsyncVersion: Chartsync.version, base: base.map(Paths.absolute))
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let packer = Packer(layout: ProjectLayout(chartList: project.chartList), cancellation: cancellation,
                            onEvent: Terminal.eventHandler(verbose: steps.verbose))
        let report = try withExtendedLifetime(signals) { try Failure.mapping { try packer.pack(options) } }
        if format.json {
            Terminal.output(try JSONOutput.encode(BundleSummary(report)))
        } else {
            for line in BundleSummary.lines(report) { Terminal.output(line) }
        }
    }
}
