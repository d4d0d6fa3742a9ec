import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import Foundation

/// `chartsync diff`: what changes if a locked chart moves to a candidate version.
struct DiffCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare a chart's locked, vendored version with a candidate from its repository.",
        discussion: """
            The candidate (--to, else the newest version the chart list's constraint admits, else the \
            newest there is) is downloaded and proven against the repository's digest as pull proves \
            it, into a temporary directory removed afterwards; the vendored tarball is proven against \
            versions.lock first. Nothing of the project is written. Reported: Chart.yaml (version, \
            appVersion, kubeVersion, deprecated), dependencies, default values as key paths, the images \
            the chart uses with default values, templates and CRDs by file (crds/ is never upgraded by \
            Helm), and with --values the keys those files set that the candidate's defaults lack and \
            the images with them. Exit 0 whatever differs; 1 when the vendored chart is not what \
            versions.lock records; 2 for an unknown chart or version; 3 for network or I/O failures.
            """
    )

    /// The chart's name in the chart list.
    @Argument(help: "The chart, by its name in the chart list.")
    var chart: String

    /// `--to VERSION`.
    @Option(name: .customLong("to"), help: ArgumentHelp("The version to compare with (default: wanted, else latest).", valueName: "version"))
    var to: String?

    /// `--values FILE` (repeatable).
    @Option(name: .customLong("values"), help: ArgumentHelp("A values file, merged in order as helm -f (repeatable).", valueName: "file"))
    var values: [String] = []

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// How repositories are reached.
    @OptionGroup var transport: TransportFlags

    /// Fetches the candidate, compares and prints.
    func run() throws {
        let list = try project.readChartList()
        let layout = ProjectLayout(chartList: project.chartList)
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let puller = Puller.terminal(layout: layout, cancellation: cancellation, onEvent: Terminal.eventHandler(verbose: false))
        let options = PullOptions(transport: transport.options, environment: ProcessInfo.processInfo.environment)
        let files = values.map { (path: Paths.absolute($0), shown: $0) }
        let diff = try Failure.mapping {
            try withExtendedLifetime(signals) {
                try ChartDiffer(layout: layout, puller: puller).diff(list, chart: chart, to: to, values: files, options: options)
            }
        }
        if format.json {
            Terminal.output(try JSONOutput.encode(DiffSummary(diff)))
        } else {
            Terminal.output(DiffText.lines(diff).joined(separator: "\n"))
        }
    }
}
