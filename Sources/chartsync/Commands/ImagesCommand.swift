import ArgumentParser
import ChartSync
import Foundation

/// `chartsync images`: the container images the vendored charts use, in images.lock.
struct ImagesCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Write images.lock: the container images the vendored charts use with default values.",
        discussion: """
            Reads every tarball versions.lock lists (proven against it first), subcharts included, \
            and lists the images with the charts that use them; the chart list's images.extra adds \
            and images.exclude removes. Digests images.lock already records are kept. --resolve asks \
            each registry (OCI distribution API) for the manifest digest of every tag and records \
            name:tag@sha256:... --check writes nothing and exits 1 when images.lock is not current. \
            What cannot be known without rendering is a warning naming the chart, file and key.
            """
    )

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    /// Only compare images.lock with the charts.
    @Flag(name: .customLong("check"), help: "Only compare images.lock with what the charts say (exit 1 when it differs).")
    var check = false

    /// Pin every image to its registry's digest.
    @Flag(name: .customLong("resolve"), help: "Pin every image to the manifest digest its registry gives for the tag.")
    var resolve = false

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// No warnings on stderr.
    @Flag(name: .shortAndLong, help: "No warnings on stderr.")
    var quiet = false

    /// How registries are reached.
    @OptionGroup var transport: TransportFlags

    /// Refuses --check with --resolve.
    func validate() throws {
        if check && resolve { throw ValidationError("--check and --resolve do not go together (--check writes nothing)") }
    }

    /// Collects the images, writes or checks images.lock and prints the result.
    func run() throws {
        let collector = ImageCollector(layout: ProjectLayout(chartList: project.chartList))
        let options = ImagesOptions(check: check, resolve: resolve, transport: transport.options,
                                    environment: ProcessInfo.processInfo.environment)
        let report = try Failure.mapping { try collector.run(options) }
        if !quiet {
            for warning in ImagesSummary.warnings(report, chartList: project.chartList) { Terminal.note(warning) }
        }
        if format.json {
            Terminal.output(try JSONOutput.encode(ImagesSummary(report, path: collector.manifestPath, check: check)))
        } else {
            for line in ImagesSummary.lines(report, path: collector.manifestPath, check: check) { Terminal.output(line) }
        }
    }
}
