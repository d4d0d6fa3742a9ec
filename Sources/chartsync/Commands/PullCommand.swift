import ArgumentParser
import ChartSync
import ChartSyncCore
import ChartSyncIndex
import ChartSyncTransport
import Foundation

/// `chartsync pull`: vendor the charts of the chart list into charts/external and write versions.lock.
struct PullCommand: ParsableCommand {
    /// The command's name and help.
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Resolve, download and prove the charts of the chart list; write versions.lock.",
        discussion: """
            Every tarball is proven against its repository's digest and its Chart.yaml before it \
            reaches charts/external; on any failure nothing changes. Exit codes: 0 success, \
            1 verification failure, 2 chart-list or usage error, 3 I/O or network failure, \
            130 interrupted.
            """
    )

    /// `-f/--file`: the chart list.
    @OptionGroup var project: ProjectOptions

    /// Downloads at once.
    @Option(name: .customLong("jobs"), help: "Downloads at once.")
    var jobs = 16

    /// Install exactly what versions.lock records.
    @Flag(name: .customLong("frozen"), help: "Install exactly what versions.lock records; fail if it does not match the chart list.")
    var frozen = false

    /// Remove from charts/external what versions.lock does not list.
    @Flag(name: .customLong("prune"), help: "Remove from charts/external everything versions.lock does not list.")
    var prune = false

    /// `--json`.
    @OptionGroup var format: OutputOptions

    /// No progress on stderr (warnings still show).
    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false

    /// `-v/--verbose`.
    @OptionGroup var steps: VerboseOptions

    /// How repositories are reached.
    @OptionGroup var transport: TransportFlags

    /// Checks --jobs.
    func validate() throws {
        guard jobs >= 1 && jobs <= 256 else { throw ValidationError("--jobs must be between 1 and 256") }
    }

    /// Pulls the chart list with progress on stderr and prints the summary.
    func run() throws {
        let path = project.chartList
        let list: ChartList
        do {
            list = try ChartListReader.read(path: path)
        } catch {
            throw Failure(code: .usage, message: error.description)
        }
        let progress = Progress(total: list.charts.count, quiet: quiet, verbose: steps.verbose)
        let cancellation = Cancellation()
        let signals = SignalTrap { cancellation.cancel() }
        let puller = Puller.terminal(layout: ProjectLayout(chartList: path), cancellation: cancellation, onEvent: progress.handle,
                                     verbose: steps.verbose)
        let options = PullOptions(jobs: jobs, frozen: frozen, prune: prune, transport: transport.options,
                                  environment: ProcessInfo.processInfo.environment)
        let report: PullReport
        do {
            report = try withExtendedLifetime(signals) { try puller.pull(list, options: options) }
        } catch let error as PullError {
            progress.finish()
            throw Failure(code: ExitStatus(error.kind), message: error.description)
        }
        progress.finish()
        if format.json {
            Terminal.output(try PullOutput.json(report))
        } else {
            Terminal.output(PullOutput.text(report))
        }
    }
}
