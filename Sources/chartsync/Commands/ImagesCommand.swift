import ArgumentParser
import ChartSync
import ChartSyncCore
import Foundation

/// `chartsync images`: the container images the vendored charts use, in images.lock.
struct ImagesCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "images",
        abstract: "Write images.lock: the container images the vendored charts use with their values.",
        discussion: """
            Reads every tarball versions.lock lists (proven against it first), subcharts included, \
            and lists the images the charts use with their default values and the values files the \
            chart list names for them (values:, applied in order as helm template -f does), and once \
            more for each release of the project's helmfile (helmfile.yaml, helmfile.yaml.gotmpl or \
            helmfile.d/) that gives a vendored chart values (its values: files and inline values, \
            then its set:), with the charts that use them; the chart list's images.extra adds \
            and images.exclude removes. Digests images.lock already records are kept. --resolve asks \
            each registry (OCI distribution API) for the manifest digest of every tag and records \
            name:tag@sha256:... --check writes nothing and exits 1 when images.lock is not current. \
            --pull pins the images not pinned yet, then fills images/ (an OCI image layout: \
            oci-layout, index.json naming each image by its full reference, blobs/sha256/) with \
            every manifest, config and layer, each proven against its digest; blobs already there \
            are proven and kept, blobs no image needs any more are removed; images.platforms in \
            the chart list narrows multi-platform images. \
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

    /// Fill the image store.
    @Flag(name: .customLong("pull"), help: "Pin missing digests, then fetch every image of images.lock into images/ (an OCI image layout).")
    var pull = false

    /// Concurrent blob downloads.
    @Option(name: .customLong("jobs"), help: "Requests (manifests and blobs) at once (with --pull).")
    var jobs = 8

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// No warnings on stderr.
    @Flag(name: .shortAndLong, help: "No warnings on stderr.")
    var quiet = false

    /// How registries are reached.
    @OptionGroup var transport: TransportFlags

    /// Refuses --check with --resolve.
    func validate() throws {
        if check && (resolve || pull) {
            throw ValidationError("--check and --\(resolve ? "resolve" : "pull") do not go together (--check writes nothing)")
        }
        if resolve && pull { throw ValidationError("--pull pins what is not pinned yet; run --resolve first to pin every tag anew") }
        guard jobs >= 1 && jobs <= 64 else { throw ValidationError("--jobs must be between 1 and 64") }
    }

    /// Collects the images, writes or checks images.lock and prints the result.
    func run() throws {
        if pull { return try runPull() }
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

    /// `--pull`: images.lock pinned, then the store filled; interrupts exit 130 and keep the proven blobs.
    private func runPull() throws {
        let layout = ProjectLayout(chartList: project.chartList)
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let progress = BlobProgress(verb: "fetched", quiet: quiet)
        let puller = ImagePuller(layout: layout, cancellation: cancellation, onEvent: progress.handle,
                                 onRegistryEvent: Terminal.transportHandler(verbose: false))
        let options = ImagePullOptions(jobs: jobs, transport: transport.options, environment: ProcessInfo.processInfo.environment)
        defer { progress.finish() }
        let report = try Failure.mapping { try withExtendedLifetime(signals) { try puller.pull(options) } }
        progress.finish()
        if !quiet {
            for warning in ImagesSummary.warnings(report.images, chartList: project.chartList) { Terminal.note(warning) }
        }
        let store = ImagesSummary.Store(report, path: puller.store.root)
        let manifestPath = ImageCollector(layout: layout).manifestPath
        if format.json {
            Terminal.output(try JSONOutput.encode(ImagesSummary(report.images, path: manifestPath, check: false, store: store)))
        } else {
            for line in ImagesSummary.lines(report.images, path: manifestPath, check: false) + store.lines { Terminal.output(line) }
        }
    }
}
